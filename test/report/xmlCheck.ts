/**
 * A small well-formedness check for the SVG the report makes: every tag is closed in order, text
 * between tags holds no raw '<' and only known entities. Not a full XML parser; enough to catch
 * unbalanced or unescaped output. Returns the problem found, or null.
 */
export function xmlProblem(xml: string): string | null {
  const tagRe = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"<]*")*)\s*(\/?)>/g;
  const stack: string[] = [];
  let pos = 0;
  for (let m = tagRe.exec(xml); m !== null; m = tagRe.exec(xml)) {
    const text = xml.slice(pos, m.index);
    const bad = checkText(text);
    if (bad) return `${bad} before offset ${m.index}`;
    pos = m.index + m[0].length;
    const [, closing, name, , selfClosing] = m;
    if (closing) {
      const open = stack.pop();
      if (open !== name) return `</${name}> closes <${open ?? 'nothing'}> at offset ${m.index}`;
    } else if (!selfClosing) stack.push(name!);
    if (stack.length === 0 && pos < xml.length && xml.slice(pos).trim() !== '') return `content after the root element at ${pos}`;
  }
  const rest = checkText(xml.slice(pos));
  if (rest) return rest;
  if (stack.length > 0) return `unclosed <${stack.join('>, <')}>`;
  return null;
}

function checkText(text: string): string | null {
  if (text.includes('<')) return `raw '<' or a malformed tag in "${text.slice(0, 60)}"`;
  const amp = text.match(/&(?!(amp|lt|gt|quot|#39);)/);
  if (amp) return `unescaped '&' in "${text.slice(0, 60)}"`;
  return null;
}
