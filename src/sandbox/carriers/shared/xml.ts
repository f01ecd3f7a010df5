/**
 * A small strict XML reader for carrier markup (TwiML, Plivo XML): elements, attributes, text, comments,
 * CDATA, processing instructions and the five predefined entities plus numeric references. No DTDs, no
 * namespaces (names are kept as written). Malformed input throws {@link XmlParseError}, which the emulators
 * turn into the carrier's "document parse failure" behaviour.
 */

export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  /** Direct text content (child elements' text excluded), entity-decoded, untrimmed. */
  text: string;
}

export class XmlParseError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(`${message} at offset ${position}`);
    this.name = 'XmlParseError';
  }
}

const NAME = /[A-Za-z_:][\w:.-]*/y;
const SPACE = /\s*/y;

function decodeEntities(raw: string, position: number): string {
  return raw.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);|&/g, (match, entity: string | undefined) => {
    if (entity === undefined) throw new XmlParseError('bare "&" (use &amp;)', position);
    switch (entity) {
      case 'amp':
        return '&';
      case 'lt':
        return '<';
      case 'gt':
        return '>';
      case 'quot':
        return '"';
      case 'apos':
        return "'";
      default:
        return String.fromCodePoint(entity[1] === 'x' ? parseInt(entity.slice(2), 16) : parseInt(entity.slice(1), 10));
    }
  });
}

class Reader {
  pos = 0;
  constructor(readonly src: string) {}

  fail(message: string): never {
    throw new XmlParseError(message, this.pos);
  }

  skipSpace(): void {
    SPACE.lastIndex = this.pos;
    SPACE.exec(this.src);
    this.pos = SPACE.lastIndex;
  }

  startsWith(s: string): boolean {
    return this.src.startsWith(s, this.pos);
  }

  expect(s: string): void {
    if (!this.startsWith(s)) this.fail(`expected "${s}"`);
    this.pos += s.length;
  }

  name(): string {
    NAME.lastIndex = this.pos;
    const m = NAME.exec(this.src);
    if (!m) this.fail('expected a name');
    this.pos = NAME.lastIndex;
    return m[0];
  }

  skipUntil(end: string): string {
    const at = this.src.indexOf(end, this.pos);
    if (at < 0) this.fail(`unterminated construct (missing "${end}")`);
    const body = this.src.slice(this.pos, at);
    this.pos = at + end.length;
    return body;
  }

  /** Skips comments, processing instructions and whitespace between top-level constructs. */
  skipMisc(): void {
    for (;;) {
      this.skipSpace();
      if (this.startsWith('<!--')) {
        this.pos += 4;
        this.skipUntil('-->');
      } else if (this.startsWith('<?')) {
        this.pos += 2;
        this.skipUntil('?>');
      } else if (this.startsWith('<!DOCTYPE')) {
        this.fail('DOCTYPE is not supported');
      } else return;
    }
  }

  element(): XmlElement {
    this.expect('<');
    const name = this.name();
    const attributes: Record<string, string> = {};
    for (;;) {
      const before = this.pos;
      this.skipSpace();
      if (this.startsWith('/>')) {
        this.pos += 2;
        return { name, attributes, children: [], text: '' };
      }
      if (this.startsWith('>')) {
        this.pos += 1;
        break;
      }
      if (this.pos === before) this.fail(`expected whitespace, "/>" or ">" in <${name}>`);
      const attr = this.name();
      this.skipSpace();
      this.expect('=');
      this.skipSpace();
      const quote = this.src[this.pos];
      if (quote !== '"' && quote !== "'") this.fail(`attribute ${attr} value must be quoted`);
      this.pos++;
      const valueStart = this.pos;
      const raw = this.skipUntil(quote);
      if (raw.includes('<')) throw new XmlParseError(`"<" in attribute ${attr}`, valueStart);
      if (attr in attributes) throw new XmlParseError(`duplicate attribute ${attr}`, valueStart);
      attributes[attr] = decodeEntities(raw, valueStart);
    }
    const children: XmlElement[] = [];
    let text = '';
    for (;;) {
      if (this.pos >= this.src.length) this.fail(`unclosed <${name}>`);
      if (this.startsWith('</')) {
        this.pos += 2;
        const closing = this.name();
        if (closing !== name) this.fail(`</${closing}> closes <${name}>`);
        this.skipSpace();
        this.expect('>');
        return { name, attributes, children, text };
      }
      if (this.startsWith('<!--')) {
        this.pos += 4;
        this.skipUntil('-->');
      } else if (this.startsWith('<![CDATA[')) {
        this.pos += 9;
        text += this.skipUntil(']]>');
      } else if (this.startsWith('<?')) {
        this.pos += 2;
        this.skipUntil('?>');
      } else if (this.startsWith('<')) {
        children.push(this.element());
      } else {
        const at = this.src.indexOf('<', this.pos);
        const end = at < 0 ? this.src.length : at;
        text += decodeEntities(this.src.slice(this.pos, end), this.pos);
        this.pos = end;
      }
    }
  }
}

/** Parses a document with exactly one root element. */
export function parseXml(source: string): XmlElement {
  const reader = new Reader(source.replace(/^\uFEFF/, ''));
  reader.skipMisc();
  if (!reader.startsWith('<')) reader.fail('expected the root element');
  const root = reader.element();
  reader.skipMisc();
  if (reader.pos < reader.src.length) reader.fail('content after the root element');
  return root;
}
