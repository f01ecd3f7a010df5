/** SIP outcomes in our call-status vocabulary (src/call-status.ts). */
import type { CallStatus } from '../../call-status.ts';

/**
 * Status of an outgoing call after a final (or provisional) response: 180/183 ringing, 2xx in-progress,
 * 486/600 busy, 408/480 and a 487 after our ring timeout no-answer, a 487 after our own cancel canceled,
 * anything else failed.
 */
export function callStatusForSipResponse(
  status: number,
  context: { cancelledByTimeout?: boolean; cancelledByUs?: boolean } = {},
): CallStatus {
  if (status === 180 || status === 183) return 'ringing';
  if (status < 200) return 'queued';
  if (status < 300) return 'in-progress';
  if (status === 486 || status === 600) return 'busy';
  if (status === 408 || status === 480) return 'no-answer';
  if (status === 487) return context.cancelledByTimeout ? 'no-answer' : context.cancelledByUs ? 'canceled' : 'failed';
  return 'failed';
}
