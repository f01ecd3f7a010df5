import type { MediaChannel } from './media-channel.ts';
import { TransportInput } from './transport-input.ts';
import type { TransportOutputOptions } from './transport-output.ts';
import { TransportOutput } from './transport-output.ts';

export type MediaTransportOptions = TransportOutputOptions;

/**
 * Binds one media channel to a pipeline: `input()` goes at the head, `output()` near the tail (before the
 * assistant-side aggregation that needs playback truth). Like Pipecat's `transport.input()/output()`.
 */
export class MediaTransport {
  private readonly inputProcessor = new TransportInput();
  private readonly outputProcessor: TransportOutput;

  constructor(
    readonly channel: MediaChannel,
    options: MediaTransportOptions = {},
  ) {
    this.outputProcessor = new TransportOutput(channel, options);
    channel.setHandler({
      audio: (audio) => this.inputProcessor.onAudio(audio),
      dtmf: (digit) => this.inputProcessor.onDtmf(digit),
      mark: (name) => this.outputProcessor.onMarkAcknowledged(name),
      cleared: () => this.outputProcessor.onClearConfirmed(),
      closed: (info) => {
        this.outputProcessor.onChannelClosed();
        this.inputProcessor.onClosed(info);
      },
    });
  }

  input(): TransportInput {
    return this.inputProcessor;
  }

  output(): TransportOutput {
    return this.outputProcessor;
  }
}
