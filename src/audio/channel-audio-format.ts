/** The audio format a media channel carries on the wire (a carrier's stream, an RTP payload type, a local pipe). */
export interface ChannelAudioFormat {
  encoding: 'mulaw' | 'alaw' | 'pcm16';
  sampleRate: number;
}
