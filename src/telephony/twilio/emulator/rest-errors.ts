/** Twilio REST error bodies: `{code, message, more_info, status}` (+ `detail` on auth errors). */

export interface TwilioRestError {
  status: number;
  body: { code: number; message: string; more_info: string; status: number; detail?: string };
}

export function twilioError(status: number, code: number, message: string, detail?: string): TwilioRestError {
  const body: TwilioRestError['body'] = { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status };
  if (detail !== undefined) body.detail = detail;
  return { status, body };
}

export const authenticationError = (): TwilioRestError =>
  twilioError(401, 20003, 'Authentication Error - invalid username', 'Your AccountSid or AuthToken was incorrect.');

export const notFoundError = (path: string): TwilioRestError => twilioError(404, 20404, `The requested resource ${path} was not found`);

export const methodNotAllowedError = (method: string): TwilioRestError => twilioError(405, 20004, `Method not allowed: ${method}`);
