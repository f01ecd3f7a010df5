export * from './audio-payload.ts';
export * from './frames.ts';
export * from './metrics.ts';
export * from './observer.ts';
export * from './pipeline.ts';
export * from './processor.ts';
export * from './task.ts';
