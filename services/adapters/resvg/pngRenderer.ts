/**
 * SVG to PNG with resvg (@resvg/resvg-js: a maintained Rust renderer, no browser). Only the font
 * file given is loaded, never the system's fonts, so a chart renders the same on a laptop, in CI
 * and in Lambda, and a machine without fonts still draws its text.
 */
import { existsSync } from 'node:fs';
import { Resvg } from '@resvg/resvg-js';
import { ConfigError } from '../../core/errors.js';
import type { PngRenderer } from '../../reporting/render.js';

export class ResvgPngRenderer implements PngRenderer {
  /** `fontFile`: the bundled font (assets/fonts/Cantarell-Regular.otf; beside the bundle in Lambda). */
  constructor(
    private readonly fontFile: string,
    private readonly defaultFamily: string,
  ) {
    if (!existsSync(fontFile)) throw new ConfigError(`report font: ${fontFile} does not exist (expected the bundled font file)`);
  }

  render(svg: string): Uint8Array {
    const r = new Resvg(svg, { font: { loadSystemFonts: false, fontFiles: [this.fontFile], defaultFontFamily: this.defaultFamily }, background: '#ffffff' });
    return new Uint8Array(r.render().asPng());
  }
}
