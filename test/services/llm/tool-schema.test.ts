import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { toGeminiSchema, toolCallInput, toolJsonSchema } from '../../../src/services/llm/tool-schema.ts';
import { defineTool, type AgentTool } from '../../../src/services/llm/tool.ts';

const tool = (parameters: z.ZodObject): AgentTool =>
  defineTool({ name: 't', description: 'd', parameters, execute: () => null }) as AgentTool;

describe('tool schemas for the lean clients', () => {
  it('closes every object and converts once per schema', () => {
    const t = tool(z.object({ when: z.object({ day: z.string() }), tags: z.array(z.object({ k: z.string() })) }));
    const schema = toolJsonSchema(t);
    expect(schema).toMatchObject({
      additionalProperties: false,
      properties: { when: { additionalProperties: false }, tags: { items: { additionalProperties: false } } },
    });
    expect(toolJsonSchema(t)).toBe(schema);
  });

  it('maps nullable, enums and consts to Gemini’s OpenAPI subset; a parameterless tool has none', () => {
    const t = tool(
      z.object({
        note: z.string().nullable(),
        size: z.enum(['s', 'm']),
        count: z.union([z.literal(1), z.literal(2)]),
        kind: z.literal('x').describe('Kind'),
      }),
    );
    expect(toGeminiSchema(toolJsonSchema(t))).toEqual({
      type: 'object',
      required: ['note', 'size', 'count', 'kind'],
      properties: {
        note: { type: 'string', nullable: true },
        size: { type: 'string', enum: ['s', 'm'] },
        count: {
          anyOf: [
            { type: 'number', format: 'enum', enum: ['1'] },
            { type: 'number', format: 'enum', enum: ['2'] },
          ],
        },
        kind: { type: 'string', enum: ['x'], description: 'Kind' },
      },
    });
    expect(toGeminiSchema(toolJsonSchema(tool(z.object({}))))).toBeUndefined();
  });

  it('returns tool-call input as the AI SDK does: schema output when valid, parsed JSON or raw text otherwise', () => {
    const tools = [
      defineTool({ name: 'book', description: 'd', parameters: z.object({ hour: z.number().default(9) }), execute: () => null }),
    ] as AgentTool[];
    expect(toolCallInput(tools, 'book', '')).toEqual({ hour: 9 });
    expect(toolCallInput(tools, 'book', '{"hour":10,"extra":1}')).toEqual({ hour: 10 });
    expect(toolCallInput(tools, 'book', '{"hour":"noon"}')).toEqual({ hour: 'noon' });
    expect(toolCallInput(tools, 'book', '{"hour":')).toBe('{"hour":');
    expect(toolCallInput(tools, 'unknown', '{"a":1}')).toEqual({ a: 1 });
  });
});
