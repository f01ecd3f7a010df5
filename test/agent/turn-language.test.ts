import { describe, expect, it } from 'vitest';
import { backchannelMatcher } from '../../src/agent/backchannels.ts';
import { HeuristicTurnDetector, silenceForProbability } from '../../src/agent/turn-detector.ts';

describe('backchannel lexicon', () => {
  const en = backchannelMatcher('en-US');
  it('takes out what callers say over a speaking bot without taking the turn', () => {
    for (const text of [
      'Mm-hmm.',
      'Okay.',
      'Uh-huh, sure.',
      'Yeah yeah okay.',
      'Mm-hmm, go on.',
      'Yeah.',
      'Right.',
      'I see.',
      'Ha ha.',
      'Got it.',
    ]) {
      expect(en.claim(text), text).toEqual({ words: 0, takesTurn: false });
    }
  });
  it('counts the other words, and knows the words that take the turn on their own', () => {
    expect(en.claim("Yes, I'll be there.")).toEqual({ words: 3, takesTurn: false });
    expect(en.claim('No.')).toEqual({ words: 1, takesTurn: false });
    expect(en.claim('Wait.').takesTurn).toBe(true);
    expect(en.claim('Sorry, what time was that?').takesTurn).toBe(true);
    expect(en.claim('Hold on a second').takesTurn).toBe(true);
  });
  it('per language, with extra words added per language', () => {
    expect(backchannelMatcher('de').claim('Ja, genau.').words).toBe(0);
    expect(backchannelMatcher('es').claim('Sí, claro.').words).toBe(0);
    expect(backchannelMatcher('fr').claim("Oui, d'accord.").words).toBe(0);
    expect(backchannelMatcher('en', { en: { backchannels: ['roger that'] } }).claim('Roger that.').words).toBe(0);
    expect(backchannelMatcher('xx').claim('Okay.').words).toBe(0); // unknown languages use English
  });
});

describe('HeuristicTurnDetector', () => {
  const detector = new HeuristicTurnDetector();
  const p = (transcript: string, language = 'en') => detector.endOfTurnProbability({ transcript, language, voicedSecs: 1 });
  it('an unfinished sentence, a hesitation or an unfinished number waits longer', () => {
    for (const text of [
      "Hmm, I'd like to move it to",
      'I can make it on',
      'Yes, but',
      'Um,',
      'Can we move it to the',
      'Well, it depends on',
    ])
      expect(p(text), text).toBeLessThanOrEqual(0.3);
    expect(p('My number is five five five')).toBeLessThanOrEqual(0.3);
  });
  it('a finished answer or question ends soon', () => {
    for (const text of [
      "Yes, I'll be there.",
      'No.',
      "No, that's all. Thanks!",
      'Hello?',
      'Thursday afternoon.',
      'Is that okay with you?',
      'I will.',
    ])
      expect(p(text), text).toBeGreaterThanOrEqual(0.75);
  });
  it('other languages have their own continuing words', () => {
    expect(p('Ich möchte den Termin auf', 'de')).toBeLessThanOrEqual(0.3);
    expect(p('Ja, das passt.', 'de')).toBeGreaterThanOrEqual(0.8);
    expect(p('Quiero cambiarlo para el', 'es')).toBeLessThanOrEqual(0.3);
    expect(p('Je voudrais le déplacer à', 'fr')).toBeLessThanOrEqual(0.3);
  });
  it('maps the probability to a silence between the shortest and the longest wait', () => {
    expect(silenceForProbability(0.95, 500, 2000)).toBe(500);
    expect(silenceForProbability(0.1, 500, 2000)).toBe(2000);
    expect(silenceForProbability(0.5, 500, 2000)).toBe(1250);
  });
});
