/**
 * Raw pixels → PNG / JPEG / WebP with sharp (Apache-2.0; its bundled libvips is LGPL-3.0, see
 * docs/architecture.md). Runs on the main thread: sharp works on libuv's thread pool, so the
 * event loop does not wait, and the input is pixels Folio produced itself, never PDF bytes.
 *
 * Settings were measured on a 1275×1650 text page (docs/benchmarks.md, render section):
 * PNG level 3 without adaptive filtering costs ~11 ms for +3 % size against ~24 ms at level 6.
 */
import sharp from 'sharp'
import type { RawImage } from './protocol.js'

// libvips' operation cache helps pipelines that reread the same input; every input here is a
// fresh bitmap, so the cache would only hold memory.
sharp.cache(false)

export const IMAGE_FORMATS = ['png', 'jpeg', 'webp'] as const
export type ImageFormat = (typeof IMAGE_FORMATS)[number]

export const MEDIA_TYPES: Record<ImageFormat, string> = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
}

/**
 * A drawing laid over the rendered page (annotations): an SVG fragment whose user
 * space is the page as displayed, in points, origin top-left (the same space as page text).
 */
export interface AnnotationOverlay {
  svg: string
}

/** Encoder settings are part of the cache key: change this when they change. */
export const ENCODER_VERSION = 'sharp-1'

export async function encodeImage(
  image: RawImage,
  format: ImageFormat,
  overlays: readonly AnnotationOverlay[] = [],
  page?: { width: number; height: number },
): Promise<Buffer> {
  let s = sharp(image.pixels, { raw: { width: image.width, height: image.height, channels: image.channels } })
  if (overlays.length > 0 && page) {
    // One SVG at the output size whose viewBox is the page in points.
    const svg =
      `<svg xmlns="http://www.w3.org/2000/svg" width="${image.width}" height="${image.height}" ` +
      `viewBox="0 0 ${page.width} ${page.height}" preserveAspectRatio="none">${overlays.map((o) => o.svg).join('')}</svg>`
    s = s.composite([{ input: Buffer.from(svg), top: 0, left: 0 }])
  }
  switch (format) {
    case 'png':
      return s.png({ compressionLevel: 3, adaptiveFiltering: false }).toBuffer()
    case 'jpeg':
      return s.jpeg({ quality: 85 }).toBuffer()
    case 'webp':
      return s.webp({ quality: 80, effort: 2 }).toBuffer()
  }
}
