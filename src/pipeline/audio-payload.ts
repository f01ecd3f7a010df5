/**
 * Audio carried by frames. At least one of `pcm` / `mulaw` is present. Telephony audio stays μ-law end to
 * end where it can (carrier → STT, TTS → carrier), so frames keep the carrier's bytes and decode only when a
 * consumer needs samples (VAD, recording).
 */
export interface AudioPayload {
  sampleRate: number;
  /** Interleaved channel count. */
  channels: number;
  /** 16-bit linear PCM, interleaved. */
  pcm?: Int16Array;
  /** G.711 μ-law bytes, one per sample. */
  mulaw?: Uint8Array;
}

/** Samples per channel in the payload. */
export function audioFrameCount(audio: AudioPayload): number {
  const samples = audio.pcm ? audio.pcm.length : audio.mulaw ? audio.mulaw.length : 0;
  return samples / audio.channels;
}

/** Duration of the payload in seconds. */
export function audioDurationSec(audio: AudioPayload): number {
  return audioFrameCount(audio) / audio.sampleRate;
}
