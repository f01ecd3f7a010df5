import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { toToolSet } from '../../../src/services/llm/ai-sdk-llm-service.ts';
import { defineTool, type AgentTool } from '../../../src/services/llm/tool.ts';

describe('tool set conversion', () => {
  it("converts a call's tools once and reuses the set, but rebuilds when the array changes in place", () => {
    const a = defineTool({ name: 'a', description: 'A', parameters: z.object({ x: z.string() }), execute: () => null });
    const b = defineTool({ name: 'b', description: 'B', parameters: z.object({}), execute: () => null });
    const tools: AgentTool[] = [a];
    const first = toToolSet(tools);
    expect(toToolSet(tools)).toBe(first);
    tools.push(b);
    const second = toToolSet(tools);
    expect(second).not.toBe(first);
    expect(Object.keys(second!)).toEqual(['a', 'b']);
    expect(toToolSet([])).toBeUndefined();
  });
});
