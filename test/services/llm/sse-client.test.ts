import { describe, expect, it } from 'vitest';
import { SseParser } from '../../../src/services/llm/sse-client.ts';

function parseAll(pieces: string[]): Array<{ event: string | undefined; data: string }> {
  const parser = new SseParser();
  return [...pieces.flatMap((piece) => parser.push(piece)), ...parser.end()];
}

describe('SseParser', () => {
  it('reads events split anywhere, with \\n, \\r\\n or \\r line ends', () => {
    const body = 'data: {"a":1}\n\ndata: {"b":2}\r\n\r\nevent: error\rdata: {"c":3}\r\r';
    const expected = [
      { event: undefined, data: '{"a":1}' },
      { event: undefined, data: '{"b":2}' },
      { event: 'error', data: '{"c":3}' },
    ];
    expect(parseAll([body])).toEqual(expected);
    // Every split point, including between \r and \n.
    for (let i = 1; i < body.length; i++) expect(parseAll([body.slice(0, i), body.slice(i)])).toEqual(expected);
    expect(parseAll([...body])).toEqual(expected);
  });

  it('joins multi-line data, skips comments and empty events, keeps an unterminated last event', () => {
    expect(parseAll([': keep-alive\n\ndata: one\ndata: two\n\n\n\ndata:three'])).toEqual([
      { event: undefined, data: 'one\ntwo' },
      { event: undefined, data: 'three' },
    ]);
  });

  it('refuses an event that never ends instead of buffering without bound', () => {
    const parser = new SseParser();
    const chunk = `data: ${'x'.repeat(64 * 1024)}`;
    expect(() => {
      for (let i = 0; i < 20; i++) parser.push(chunk);
    }).toThrow(/longer than/);
  });
});
