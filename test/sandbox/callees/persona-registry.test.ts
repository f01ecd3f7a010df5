import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { normalizeNumber, PersonaRegistry } from '../../../src/sandbox/callees/persona-registry.ts';

describe('PersonaRegistry', () => {
  it('maps the built-in numbers to their personas, in any number format', () => {
    const registry = new PersonaRegistry();
    expect(registry.lookup('+15550100001')?.id).toBe('cooperative');
    expect(registry.lookup('15550100002')?.id).toBe('interrupter');
    expect(registry.lookup('+1 (555) 010-0003')?.id).toBe('busy');
    expect(registry.lookup('+15550100003')?.outcome).toBe('busy');
    expect(registry.lookup('+15550100004')?.outcome).toBe('no-answer');
    expect(registry.lookup('+15550100005')?.steps).toEqual([]);
    expect(registry.lookup('+15550100006')?.steps?.some((s) => 'press' in s)).toBe(true);
    expect(normalizeNumber('sip:Alice@Example.com')).toBe('sip:alice@example.com');
  });

  it('answers unknown numbers with the fallback persona, or nobody when the fallback is null', () => {
    expect(new PersonaRegistry().lookup('+447700900123')?.id).toBe('cooperative');
    expect(new PersonaRegistry({ fallback: null }).lookup('+447700900123')).toBeNull();
    expect(new PersonaRegistry({ builtins: false, fallback: null }).lookup('+15550100001')).toBeNull();
  });

  it('validates personas users register', () => {
    const registry = new PersonaRegistry();
    registry.register('+15551230000', { id: 'custom', ringMs: 0, steps: [{ say: 'Hi' }, { hangUp: true }] });
    expect(registry.get('15551230000')?.id).toBe('custom');
    expect(() => registry.register('+15551230001', { id: 'bad', steps: [{ shout: 'Hi' }] })).toThrow();
    expect(() => registry.register('+15551230001', { id: 'bad', steps: [{ press: 'x' }] })).toThrow(/DTMF/);
    expect(() => registry.register('+15551230001', { id: 'bad', outcome: 'maybe' })).toThrow();
  });

  it('loads personas from a JSON file, all or nothing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'personas-'));
    try {
      const good = join(dir, 'good.json');
      await writeFile(good, JSON.stringify({ '+15550199999': { id: 'rescheduler', steps: [{ say: "I can't make it." }] } }));
      const registry = new PersonaRegistry();
      expect(await registry.loadFile(good)).toBe(1);
      expect(registry.get('+15550199999')?.id).toBe('rescheduler');
      const bad = join(dir, 'bad.json');
      await writeFile(bad, JSON.stringify({ '+15550199998': { id: 'ok' }, '+15550199997': { steps: [] } }));
      await expect(registry.loadFile(bad)).rejects.toThrow(/15550199997/);
      expect(registry.get('+15550199998')).toBeUndefined();
    } finally {
      await rm(dir, { recursive: true });
    }
  });
});
