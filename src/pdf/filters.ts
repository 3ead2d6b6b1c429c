import { constants as bufferConstants } from 'node:buffer'
import { constants, inflateSync } from 'node:zlib'
import { fail, overBudget } from './errors.js'
import { isDict, nameOf, type PdfDict, type PdfValue } from './lexer.js'

// Stream filters for the only streams the inspector decodes: cross-reference streams and object
// streams (ISO 32000-1 §7.5.7, §7.5.8). Writers use FlateDecode with PNG predictors for these;
// other filters (LZW, ASCII85, …) are refused as `malformed` rather than implemented.

/** Decodes `raw` by the stream's /Filter and /DecodeParms; output never exceeds `maxBytes`. */
export function decodeStreamData(raw: Buffer, dict: PdfDict, maxBytes: number): Buffer {
  const filters = asList(dict.get('Filter'))
  const params = asList(dict.get('DecodeParms'))
  let data = raw
  filters.forEach((filter, index) => {
    const name = nameOf(filter)
    if (name !== 'FlateDecode' && name !== 'Fl') fail('malformed', `unsupported filter ${name ?? '(not a name)'} on an xref or object stream`)
    data = inflate(data, maxBytes)
    const parms = params[index]
    if (isDict(parms)) data = unpredict(data, parms)
  })
  if (data.length > maxBytes) overBudget('stream_bytes', `a decoded stream exceeds ${maxBytes} bytes`)
  return data
}

function asList(value: PdfValue | undefined): PdfValue[] {
  if (value === undefined || value === null) return []
  return Array.isArray(value) ? value : [value]
}

const BUFFER_MAX_LENGTH = bufferConstants.MAX_LENGTH

function inflate(data: Buffer, maxBytes: number): Buffer {
  try {
    // Z_SYNC_FLUSH returns what was decoded from a stream missing its final block or checksum
    // (common in the wild) instead of throwing; the callers check that the data is long enough.
    const maxOutputLength = Math.min(Math.max(1, maxBytes), BUFFER_MAX_LENGTH)
    return inflateSync(data, { maxOutputLength, finishFlush: constants.Z_SYNC_FLUSH })
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      overBudget('stream_bytes', `a decoded stream exceeds ${maxBytes} bytes`)
    }
    return fail('malformed', `FlateDecode failed: ${(error as Error).message}`)
  }
}

function intParam(parms: PdfDict, key: string, fallback: number, max: number): number {
  const value = parms.get(key)
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    fail('malformed', `bad /${key} in /DecodeParms`)
  }
  return value
}

/** §7.4.4.4 Table 8: /Predictor 2 is TIFF, 10–15 are PNG (each row carries its own filter type). */
function unpredict(data: Buffer, parms: PdfDict): Buffer {
  const predictor = intParam(parms, 'Predictor', 1, 15)
  if (predictor === 1) return data
  const colors = intParam(parms, 'Colors', 1, 32)
  const bits = intParam(parms, 'BitsPerComponent', 8, 16)
  const columns = intParam(parms, 'Columns', 1, 1 << 24)
  if (![1, 2, 4, 8, 16].includes(bits)) fail('malformed', 'bad /BitsPerComponent in /DecodeParms')
  const bytesPerPixel = Math.max(1, Math.ceil((colors * bits) / 8))
  const rowLength = Math.ceil((colors * bits * columns) / 8)
  if (predictor === 2) {
    if (bits !== 8) fail('malformed', 'TIFF predictor supported for 8-bit components only')
    return tiffUnpredict(data, rowLength, bytesPerPixel)
  }
  if (predictor < 10) fail('malformed', `unknown /Predictor ${predictor}`)
  return pngUnpredict(data, rowLength, bytesPerPixel)
}

function tiffUnpredict(data: Buffer, rowLength: number, bytesPerPixel: number): Buffer {
  const out = Buffer.from(data)
  for (let row = 0; row + rowLength <= out.length; row += rowLength) {
    for (let i = bytesPerPixel; i < rowLength; i++) out[row + i] = (out[row + i]! + out[row + i - bytesPerPixel]!) & 0xff
  }
  return out
}

/** PNG filters (RFC 2083 §6): None, Sub, Up, Average, Paeth. A partial last row is dropped. */
function pngUnpredict(data: Buffer, rowLength: number, bpp: number): Buffer {
  const rows = Math.floor(data.length / (rowLength + 1))
  const out = Buffer.alloc(rows * rowLength)
  for (let r = 0; r < rows; r++) {
    const type = data[r * (rowLength + 1)]!
    const src = r * (rowLength + 1) + 1
    const dst = r * rowLength
    for (let i = 0; i < rowLength; i++) {
      const raw = data[src + i]!
      const left = i >= bpp ? out[dst + i - bpp]! : 0
      const up = r > 0 ? out[dst + i - rowLength]! : 0
      const upLeft = r > 0 && i >= bpp ? out[dst + i - rowLength - bpp]! : 0
      let predicted: number
      if (type === 0) predicted = 0
      else if (type === 1) predicted = left
      else if (type === 2) predicted = up
      else if (type === 3) predicted = (left + up) >> 1
      else if (type === 4) predicted = paeth(left, up, upLeft)
      else return fail('malformed', `unknown PNG filter type ${type}`)
      out[dst + i] = (raw + predicted) & 0xff
    }
  }
  return out
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c
  const pa = Math.abs(p - a)
  const pb = Math.abs(p - b)
  const pc = Math.abs(p - c)
  if (pa <= pb && pa <= pc) return a
  return pb <= pc ? b : c
}
