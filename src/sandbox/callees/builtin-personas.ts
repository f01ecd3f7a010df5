/**
 * The sandbox's built-in simulated callees, keyed by phone number. Their scripts fit the bot's default
 * conversation (an appointment reminder where, on outbound calls, the bot waits for the callee to speak
 * first): the bot's first reply is one long sentence, a confirmation gets "…anything else?", and "no, that's
 * all" gets a goodbye and a hang-up.
 */
import type { Persona } from './persona.ts';

export const builtinPersonas: Record<string, Persona> = {
  '+15550100001': {
    id: 'cooperative',
    description: 'Answers and goes through the conversation.',
    steps: [
      { say: 'Hello?' },
      { waitForBotToFinish: true },
      { say: "Yes, I'll be there." },
      { waitForBotToFinish: true },
      { say: "No, that's all. Thanks!" },
    ],
  },
  '+15550100002': {
    id: 'interrupter',
    description: "Interrupts the bot's first long sentence to ask for the time again.",
    steps: [
      { say: 'Hello?' },
      { waitForBotSpeechMs: 1500 },
      { say: 'Sorry, what time was that?' },
      { waitForBotToFinish: true },
      { say: 'Yes, that works.' },
      { waitForBotToFinish: true },
      { say: "No, that's everything. Bye!" },
    ],
  },
  '+15550100003': {
    id: 'busy',
    description: 'The line is busy.',
    outcome: 'busy',
    ringMs: 800,
  },
  '+15550100004': {
    id: 'no-answer',
    description: "Rings until the carrier's timeout; nobody picks up.",
    outcome: 'no-answer',
  },
  '+15550100005': {
    id: 'silent',
    description: 'Answers, then says nothing until the other side hangs up.',
    steps: [],
  },
  '+15550100006': {
    id: 'keypad',
    description: 'Answers, confirms with the keypad (1), then declines anything else.',
    steps: [{ say: 'Hello?' }, { waitForBotToFinish: true }, { press: '1' }, { waitForBotToFinish: true }, { say: 'No thanks, bye.' }],
  },
  '+15550100007': {
    id: 'wants-a-person',
    description: 'Asks to speak to a person; once put through, asks the person about a bill.',
    steps: [
      { say: 'Hello?' },
      { waitForBotToFinish: true },
      { say: 'Can I talk to a person, please?' },
      { waitForBotToFinish: true },
      { pauseMs: 1500 },
      { say: 'Hi, I have a question about my bill.' },
      { waitForBotToFinish: true, timeoutMs: 20000 },
      { hangUp: true },
    ],
  },
  '+15550100008': {
    id: 'ivr',
    description: 'An automated phone menu: proceeds to billing only on the key 1, heard as a DTMF tone.',
    voice: { voice: 'en-us+m1' },
    steps: [
      { say: 'Thanks for calling Acme, for billing press 1, for support press 2.' },
      { waitForKeys: '1', timeoutMs: 8000, onTimeout: 'hangUp' },
      { say: 'Connecting you to billing. You are now connected.' },
      { waitForBotToFinish: true, timeoutMs: 15000 },
      { hangUp: true },
    ],
    afterSteps: 'hangUp',
  },
  '+15550100090': {
    id: 'human-agent',
    description:
      "A person at the front desk, the sandbox's transfer destination: answers a transferred caller (after a warm transfer's briefing), then answers their question.",
    ringMs: 1500,
    voice: { voice: 'en-us+m3' },
    steps: [
      // 1.5 s of quiet first: after a warm transfer's briefing, time for the bridge before the person speaks.
      { waitForBotToFinish: true, minSilenceMs: 1500 },
      { say: 'Front desk, sure, I can help you with your bill.' },
      { waitForBotToFinish: true, minSilenceMs: 700 },
      { say: 'Let me pull up your account.' },
    ],
  },
  '+15550100009': {
    id: 'caller',
    description: 'Calls in: waits for the bot to greet, confirms, then declines anything else.',
    steps: [{ waitForBotToFinish: true }, { say: "Yes, I'll be there." }, { waitForBotToFinish: true }, { say: "No, that's all. Thanks!" }],
  },
};
