/**
 * Types for the parts of the `espeak-ng` npm package (an Emscripten build of the eSpeak NG command line,
 * GPL-3.0-or-later) that we use. The package ships no types.
 */
declare module 'espeak-ng' {
  /** Emscripten's in-memory file system (only the calls we make). */
  export interface EspeakFileSystem {
    writeFile(path: string, data: string | Uint8Array): void;
    readFile(path: string): Uint8Array;
    unlink(path: string): void;
    analyzePath(path: string): { exists: boolean };
  }

  export interface EspeakModule {
    FS: EspeakFileSystem;
    /** The C `main(argc, argv)` of the espeak-ng command line. */
    _main(argc: number, argv: number): number;
  }

  export interface EspeakModuleOptions {
    arguments?: string[];
    /** Do not run `main` on load. */
    noInitialRun?: boolean;
    print?: (line: string) => void;
    printErr?: (line: string) => void;
    /** Lets the host instantiate the WASM (e.g. from a module compiled once). */
    instantiateWasm?: (imports: object, receiveInstance: (instance: object) => void) => Record<string, never>;
  }

  const createEspeak: (options?: EspeakModuleOptions) => Promise<EspeakModule>;
  export default createEspeak;
}
