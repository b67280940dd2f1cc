/** The port that turns the report's SVG chart into a PNG (services/adapters/resvg/pngRenderer.ts). */
export interface PngRenderer {
  render(svg: string): Uint8Array;
}
