export * from './stt-service.ts';
export * from './stt-processor.ts';
export * from './deepgram.ts';
export * from './openai-realtime.ts';
