/** One valid Instant JSON annotation (v2) of each type Folio accepts, for tests and benchmarks. */
export const SAMPLES: Record<string, Record<string, unknown>> = {
  highlight: { v: 2, type: 'pspdfkit/markup/highlight', pageIndex: 0, bbox: [100, 100, 200, 20], rects: [[100, 100, 200, 20]], color: '#ff0000', opacity: 1, note: 'hi' },
  underline: { v: 2, type: 'pspdfkit/markup/underline', pageIndex: 0, bbox: [100, 150, 200, 20], rects: [[100, 150, 120, 20], [100, 170, 200, 20]], color: '#00aa00' },
  strikeout: { v: 2, type: 'pspdfkit/markup/strikeout', pageIndex: 0, bbox: [100, 180, 200, 20], rects: [[100, 180, 200, 20]], color: '#aa0000' },
  squiggly: { v: 2, type: 'pspdfkit/markup/squiggly', pageIndex: 0, bbox: [100, 210, 200, 20], rects: [[100, 210, 200, 20]], color: '#0000aa' },
  ink: { v: 2, type: 'pspdfkit/ink', pageIndex: 0, bbox: [50, 250, 100, 100], lines: { points: [[[50, 250], [100, 300], [150, 350]], [[60, 260]]], intensities: [[1, 1, 1], [0.5]] }, lineWidth: 3, strokeColor: '#0000ff', isDrawnNaturally: false },
  rectangle: { v: 2, type: 'pspdfkit/shape/rectangle', pageIndex: 1, bbox: [50, 50, 100, 80], strokeColor: '#00ff00', strokeWidth: 2, fillColor: '#ffff00', strokeDashArray: [3, 3] },
  ellipse: { v: 2, type: 'pspdfkit/shape/ellipse', pageIndex: 1, bbox: [200, 50, 100, 80], strokeColor: '#008800', strokeWidth: 2 },
  line: { v: 2, type: 'pspdfkit/shape/line', pageIndex: 1, bbox: [40, 290, 230, 70], startPoint: [50, 300], endPoint: [250, 350], strokeColor: '#000000', strokeWidth: 2, lineCaps: { end: 'closedArrow' } },
  note: { v: 2, type: 'pspdfkit/note', pageIndex: 0, bbox: [400, 400, 32, 32], text: { format: 'plain', value: 'A note — é ✓' }, icon: 'comment', color: '#ffcc00' },
  text: { v: 2, type: 'pspdfkit/text', pageIndex: 0, bbox: [300, 500, 200, 60], text: { format: 'plain', value: 'Free text that wraps across lines' }, fontSize: 14, opacity: 1, horizontalAlign: 'left', verticalAlign: 'top', fontColor: '#333333', backgroundColor: '#eeeeee' },
  link: { v: 2, type: 'pspdfkit/link', pageIndex: 0, bbox: [50, 600, 100, 20], action: { type: 'uri', uri: 'https://example.com/?a=(1)' } },
  stamp: { v: 2, type: 'pspdfkit/stamp', pageIndex: 1, bbox: [300, 400, 150, 50], stampType: 'Approved', customData: { reviewer: 7 } },
}

/** The PDF subtype each sample becomes. */
export const SUBTYPES: Record<string, string> = {
  highlight: '/Highlight', underline: '/Underline', strikeout: '/StrikeOut', squiggly: '/Squiggly', ink: '/Ink',
  rectangle: '/Square', ellipse: '/Circle', line: '/Line', note: '/Text', text: '/FreeText', link: '/Link', stamp: '/Stamp',
}

export function highlightAt(pageIndex: number, y: number, color = '#ff0000'): Record<string, unknown> {
  return { v: 2, type: 'pspdfkit/markup/highlight', pageIndex, bbox: [72, y, 300, 18], rects: [[72, y, 300, 18]], color }
}
