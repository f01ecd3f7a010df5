import { HttpError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { CarrierAdapter, CarrierContext, CarrierRuntime } from '../telephony/carrier-adapter.ts';
import type { MediaStreamProtocol } from '../transports/media-serializer.ts';

/** `live`: real credentials; `emulated`: pointed at the sandbox emulator; `unavailable`: no credentials, not emulated. */
export type CarrierMode = 'live' | 'emulated' | 'unavailable';

export interface CarrierEntry {
  adapter: CarrierAdapter;
  settings: unknown;
  mode: CarrierMode;
  /** Credential variables missing (for `unavailable` carriers). */
  missing: string[];
  runtime?: CarrierRuntime;
}

/** How each carrier runs in this process, for the start-up report and `/healthz`. */
export interface CarrierStatus {
  name: string;
  mode: CarrierMode;
  missing: string[];
}

/**
 * The carriers of one server, by name: which are live, emulated or unavailable, and their runtimes. Asking for an
 * unknown carrier is a 400 listing the known ones; asking for an unavailable one is a 503 naming what is missing.
 */
export class CarrierSet {
  private readonly entries = new Map<string, CarrierEntry>();

  constructor(entries: Iterable<CarrierEntry>) {
    for (const entry of entries) this.entries.set(entry.adapter.name, entry);
  }

  /** Creates the runtimes of every carrier that has credentials (real or emulated). */
  static async create(
    carriers: ReadonlyArray<{ adapter: CarrierAdapter; settings: unknown; emulated: boolean }>,
    context: CarrierContext,
  ): Promise<CarrierSet> {
    const entries: CarrierEntry[] = [];
    for (const { adapter, settings, emulated } of carriers) {
      const missing = adapter.missingCredentials(settings);
      if (missing.length > 0) {
        entries.push({ adapter, settings, mode: 'unavailable', missing });
        continue;
      }
      const runtime = await adapter.create(settings, context);
      entries.push({ adapter, settings, mode: emulated ? 'emulated' : 'live', missing: [], runtime });
    }
    return new CarrierSet(entries);
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  adapters(): CarrierAdapter[] {
    return [...this.entries.values()].map((entry) => entry.adapter);
  }

  entry(name: string): CarrierEntry | undefined {
    return this.entries.get(name);
  }

  /** The live runtime of `name`; throws 400 for an unknown carrier and 503 for one without credentials. */
  runtime(name: string): CarrierRuntime {
    const entry = this.entries.get(name);
    if (!entry) throw new HttpError(400, 'unknown_carrier', `unknown carrier "${name}"; known: ${this.names().join(', ')}`);
    if (!entry.runtime) throw unavailable(entry);
    return entry.runtime;
  }

  /** The runtime when the carrier is live or emulated, else `undefined` (hang-ups of recovered calls, shutdown). */
  find(name: string): CarrierRuntime | undefined {
    return this.entries.get(name)?.runtime;
  }

  /** The carrier that claims `to` as a destination only it reaches (see `CarrierAdapter.claims`), if one does. */
  claiming(to: string): string | undefined {
    return [...this.entries.values()].find((entry) => entry.runtime && entry.adapter.claims?.(to))?.adapter.name;
  }

  defaultFrom(name: string): string | undefined {
    const entry = this.entries.get(name);
    return entry ? entry.adapter.defaultFrom(entry.settings) : undefined;
  }

  /** Media-socket protocols of the carriers that can run, for recognising a socket's first messages. */
  mediaProtocols(): MediaStreamProtocol[] {
    return [...this.entries.values()].flatMap((entry) => (entry.runtime && entry.adapter.mediaStream ? [entry.adapter.mediaStream] : []));
  }

  statuses(): CarrierStatus[] {
    return [...this.entries.values()].map((entry) => ({ name: entry.adapter.name, mode: entry.mode, missing: entry.missing }));
  }

  /** Releases every runtime's sockets and listeners. */
  async close(log?: Logger): Promise<void> {
    await Promise.all(
      [...this.entries.values()].map(async (entry) => {
        try {
          await entry.runtime?.close?.();
        } catch (error) {
          log?.warn({ carrier: entry.adapter.name, err: error instanceof Error ? error.message : String(error) }, 'carrier close failed');
        }
      }),
    );
  }
}

function unavailable(entry: CarrierEntry): HttpError {
  const { adapter, missing } = entry;
  return new HttpError(
    503,
    'carrier_unavailable',
    `${adapter.displayName} is not configured: set ${missing.join(' and ')} (a server with no credentials at all runs the sandbox instead)`,
    { carrier: adapter.name, missing },
  );
}
