/**
 * Fills `{{path.to.value}}` placeholders from per-call metadata (e.g. `{{user.firstName}}`).
 * A fallback can follow a pipe: `{{user.firstName|there}}`. Missing values without a fallback render as an
 * empty string; `missing` collects their paths so callers can warn about them.
 */
export function renderTemplate(template: string, data: Record<string, unknown>, missing?: string[]): string {
  return template.replace(/\{\{\s*([\w.[\]-]+)\s*(?:\|([^}]*))?\}\}/g, (_match, path: string, fallback?: string) => {
    const value = lookup(data, path);
    if (value === undefined || value === null || value === '') {
      if (fallback === undefined) missing?.push(path);
      return fallback?.trim() ?? '';
    }
    return typeof value === 'object' ? JSON.stringify(value) : String(value);
  });
}

function lookup(data: unknown, path: string): unknown {
  let current: unknown = data;
  for (const key of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}
