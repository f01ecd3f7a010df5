import { describe, expect, it } from 'vitest';
import { parseXml, XmlParseError } from '../../../../src/sandbox/carriers/shared/xml.ts';

describe('parseXml', () => {
  it('reads elements, attributes, text, entities and ignores the declaration and comments', () => {
    const root = parseXml(
      '<?xml version="1.0" encoding="UTF-8"?><!-- hi --><Response><Connect><Stream url="wss://a.example/ws?x=1&amp;y=2">' +
        '<Parameter name=\'k\' value="v &lt;1&gt;"/></Stream></Connect><Say>Hello &#x41;&#66;</Say></Response>',
    );
    expect(root.name).toBe('Response');
    const stream = root.children[0]?.children[0];
    expect(stream?.attributes.url).toBe('wss://a.example/ws?x=1&y=2');
    expect(stream?.children[0]?.attributes).toEqual({ name: 'k', value: 'v <1>' });
    expect(root.children[1]?.text).toBe('Hello AB');
  });

  it('keeps CDATA text as is', () => {
    expect(parseXml('<a><![CDATA[x < y & z]]></a>').text).toBe('x < y & z');
  });

  it.each([
    ['<Response><Say>unclosed</Response>', /closes/],
    ['<Response>', /unclosed/],
    ['<a b=c/>', /quoted/],
    ['<a>&</a>', /bare/],
    ['<a/><b/>', /after the root/],
    ['text', /root element/],
  ])('rejects %s', (source, message) => {
    expect(() => parseXml(source)).toThrow(XmlParseError);
    expect(() => parseXml(source)).toThrow(message);
  });
});
