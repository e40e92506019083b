import { inspect } from 'node:util';
import fc from 'fast-check';
import {
  retryAfterMs,
  SlackDeliveryError,
  type SlackPayload,
  SlackSender,
  slackErrorCode,
} from '../../../lambda/adapters/slack/sender';
import { type SlackReceiver, type SlackResponseName, startSlackReceiver } from '../../support/slack-receiver';

/** A clock that only moves when the sender sleeps, so no test waits for real. */
function fakeTime(start = 1_700_000_000_000) {
  let now = start;
  const sleeps: number[] = [];
  return {
    sleeps,
    clock: () => now,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
  };
}

const digest: SlackPayload = {
  text: 'credwatch: 1 finding opened',
  blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '*alice* key is 91 days old' } }],
};

/** Everything a logger could print about an error, causes included. */
const everything = (error: unknown): string => inspect(error, { depth: 10 });

async function failure(promise: Promise<unknown>): Promise<SlackDeliveryError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof SlackDeliveryError) return error;
    throw error;
  }
  throw new Error('expected a SlackDeliveryError, but the promise resolved');
}

describe('SlackSender', () => {
  let receiver: SlackReceiver;
  beforeEach(async () => {
    receiver = await startSlackReceiver();
  });
  afterEach(async () => {
    await receiver.close();
  });

  const sender = (time = fakeTime(), timeBudgetMs?: number) =>
    new SlackSender({ webhookUrl: receiver.url, clock: time.clock, sleep: time.sleep, timeBudgetMs });

  describe('send', () => {
    it('posts the text and blocks as JSON and resolves on 200 ok', async () => {
      const time = fakeTime();
      await sender(time).send(digest);
      expect(receiver.delivered()).toEqual([{ text: digest.text, blocks: digest.blocks }]);
      expect(time.sleeps).toEqual([]);
    });

    it('omits blocks when the payload has none', async () => {
      await sender().send({ text: 'plain' });
      expect(receiver.delivered()).toEqual([{ text: 'plain' }]);
    });

    it('waits the Retry-After seconds of a 429, then delivers the message exactly once', async () => {
      receiver.script('rate_limited');
      const time = fakeTime();
      await sender(time).send(digest);
      expect(time.sleeps).toEqual([1000]);
      expect(receiver.requests.map((r) => r.answeredWith)).toEqual([429, 200]);
      expect(receiver.delivered()).toHaveLength(1);
    });

    it('honours a Retry-After given as an HTTP date', async () => {
      const time = fakeTime(Date.UTC(2025, 0, 2, 3, 4, 5));
      const retryAt = new Date(Date.UTC(2025, 0, 2, 3, 4, 8)).toUTCString();
      receiver.script({ status: 429, headers: { 'retry-after': retryAt }, body: '' });
      await sender(time).send(digest);
      expect(time.sleeps).toEqual([3000]);
      expect(receiver.delivered()).toHaveLength(1);
    });

    it.each<SlackResponseName>(['server_error_html', 'rollup_error'])(
      'retries a 5xx (%s) after a backoff and then delivers',
      async (answer) => {
        receiver.script(answer);
        const time = fakeTime();
        await sender(time).send(digest);
        expect(time.sleeps).toEqual([500]);
        expect(receiver.requests.map((r) => r.answeredWith)).toEqual([500, 200]);
      },
    );

    it('retries once when the connection is closed without an answer, counts it, then delivers', async () => {
      receiver.script('destroy');
      const time = fakeTime();
      const s = sender(time);
      await s.send(digest);
      expect(time.sleeps).toEqual([500]);
      expect(receiver.requests.map((r) => r.answeredWith)).toEqual(['destroyed', 200]);
      expect(receiver.delivered()).toHaveLength(1);
      expect(s.uncertain()).toBe(1);
    });

    it('never retries a lost answer twice: at most one duplicate, and the failure says the message may be posted', async () => {
      receiver.script('destroy', 'destroy');
      const time = fakeTime();
      const s = sender(time);
      const error = await s.send(digest).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SlackDeliveryError);
      expect(error).toMatchObject({ permanent: false, slackError: 'answer_lost' });
      expect((error as Error).message).toMatch(/answer was lost twice .*may have been posted/);
      expect(receiver.requests.map((r) => r.answeredWith)).toEqual(['destroyed', 'destroyed']);
      expect(s.uncertain()).toBe(1);
    });

    it.each([
      ['0', 'Retry-After: 0'],
      ['Wed, 21 Oct 2015 07:28:00 GMT', 'a date in the past'],
    ])('waits at least a second after a 429 with %s (%s): never a busy loop', async (retryAfter) => {
      receiver.script({ status: 429, headers: { 'Retry-After': retryAfter }, body: 'rate_limited' });
      const time = fakeTime();
      await sender(time).send(digest);
      expect(time.sleeps).toEqual([1000]);
      expect(receiver.delivered()).toHaveLength(1);
    });

    it.each<[SlackResponseName, number, string | undefined]>([
      ['no_service', 404, 'no_service'],
      ['channel_not_found', 404, 'channel_not_found'],
      ['invalid_payload', 400, 'invalid_payload'],
      ['no_text', 400, 'no_text'],
      ['invalid_blocks', 400, 'invalid_blocks'],
      ['empty_400', 400, undefined],
      ['action_prohibited', 403, 'action_prohibited'],
      ['invalid_token', 403, 'invalid_token'],
      ['channel_is_archived', 410, 'channel_is_archived'],
    ])(
      'fails permanently on %s without retrying and without the URL in the error',
      async (answer, status, code) => {
        receiver.script(answer);
        const time = fakeTime();
        const error = await failure(sender(time).send(digest));
        expect(error).toMatchObject({
          name: 'SlackDeliveryError',
          permanent: true,
          status,
          slackError: code,
        });
        expect(error.message).toContain(`HTTP ${status}`);
        expect(receiver.requests).toHaveLength(1);
        expect(time.sleeps).toEqual([]);
        expect(everything(error)).not.toContain(receiver.secret);
        expect(everything(error)).not.toContain(receiver.url);
      },
    );

    it('names what to do about a disabled webhook', async () => {
      receiver.script('no_service');
      const error = await failure(sender().send(digest));
      expect(error.message).toBe(
        'Slack refused the message with HTTP 404 no_service: the webhook is disabled, revoked or its app was ' +
          'removed; create a new webhook and update the secret; not retried',
      );
    });

    it('gives up, not permanently, when 5xx answers outlast the time budget', async () => {
      receiver.script(...Array<SlackResponseName>(10).fill('server_error_html'));
      const time = fakeTime();
      const error = await failure(sender(time, 20_000).send(digest));
      expect(error).toMatchObject({ permanent: false, status: 500, slackError: undefined });
      expect(error.message).toMatch(
        /^Slack did not take the message within the 20000 ms budget \(6 attempts; /,
      );
      expect(time.sleeps).toEqual([500, 1000, 2000, 4000, 8000]);
      expect(receiver.requests).toHaveLength(6);
      expect(receiver.delivered()).toEqual([]);
    });

    it('gives up at once when Retry-After asks for longer than the budget allows', async () => {
      receiver.script({ status: 429, headers: { 'retry-after': '30' }, body: SLACK_RATE_LIMITED_BODY });
      const time = fakeTime();
      const error = await failure(sender(time, 20_000).send(digest));
      expect(error).toMatchObject({ permanent: false, status: 429, slackError: 'rate_limited' });
      expect(time.sleeps).toEqual([]);
      expect(receiver.requests).toHaveLength(1);
    });

    it('gives up when nothing listens, without the URL in the error', async () => {
      const { url, secret } = receiver;
      await receiver.close();
      const time = fakeTime();
      const error = await failure(
        new SlackSender({ webhookUrl: url, clock: time.clock, sleep: time.sleep }).send(digest),
      );
      expect(error).toMatchObject({ permanent: false, status: undefined });
      expect(error.message).toContain('no answer (network error or timeout)');
      expect(time.sleeps.length).toBeGreaterThan(0);
      expect(everything(error)).not.toContain(secret);
      receiver = await startSlackReceiver();
    });
  });

  describe('sendAll', () => {
    const digests: SlackPayload[] = [{ text: 'one' }, { text: 'two' }, { text: 'three' }];

    it('delivers every message in order, pacing them one second apart', async () => {
      const time = fakeTime();
      const result = await sender(time).sendAll(digests);
      expect(result).toEqual({ delivered: 3 });
      expect(receiver.delivered()).toEqual(digests);
      expect(time.sleeps).toEqual([1000, 1000]);
    });

    it('does not wait again when a retry already spent the interval', async () => {
      receiver.script('rate_limited');
      const time = fakeTime();
      await sender(time).sendAll(digests.slice(0, 2));
      expect(time.sleeps).toEqual([1000]);
      expect(receiver.delivered()).toEqual(digests.slice(0, 2));
    });

    it('stops at the first failure and reports how many messages were delivered', async () => {
      receiver.script('ok', 'no_service');
      const result = await sender().sendAll(digests);
      expect(result.delivered).toBe(1);
      expect(result.error).toMatchObject({ permanent: true, slackError: 'no_service' });
      expect(receiver.requests.map((r) => r.payload)).toEqual(digests.slice(0, 2));
    });

    it('starts no message after the deadline, so the caller can remember what was delivered', async () => {
      const time = fakeTime();
      const deadline = time.clock() + 1500; // room for two messages paced a second apart
      const result = await sender(time).sendAll(digests, { deadline });
      expect(result.delivered).toBe(2);
      expect(result.error).toMatchObject({ permanent: false, slackError: 'out_of_time' });
      expect(result.error?.message).toBe(
        'Slack delivery stopped before message 3 of 3: out of time for this run; the next scan sends the rest',
      );
      expect(receiver.delivered()).toEqual(digests.slice(0, 2));
    });

    it('sends nothing for no messages', async () => {
      await expect(sender().sendAll([])).resolves.toEqual({ delivered: 0 });
      expect(receiver.requests).toEqual([]);
    });
  });

  it('refuses a malformed webhook URL without echoing it', () => {
    expect(() => new SlackSender({ webhookUrl: 'hooks.slack.com/services/T0/B0/s3cr3t' })).toThrow(
      new SlackDeliveryError('Slack webhook URL is not a valid URL', true, undefined, undefined),
    );
  });
});

const SLACK_RATE_LIMITED_BODY = '{"retry_after":1,"ok":false,"error":"rate_limited"}';

describe('retryAfterMs', () => {
  const now = Date.UTC(2025, 5, 1);

  it('reads whole and fractional seconds', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 86_400 }), fc.integer({ min: 0, max: 9 }), (seconds, tenths) => {
        expect(retryAfterMs(`${seconds}`, '', now)).toBe(seconds * 1000);
        expect(retryAfterMs(`${seconds}.${tenths}`, '', now)).toBe(seconds * 1000 + tenths * 100);
      }),
    );
  });

  it('reads an HTTP date relative to now, never negative', () => {
    fc.assert(
      fc.property(fc.integer({ min: -3600, max: 3600 }), (offsetSeconds) => {
        const header = new Date(now + offsetSeconds * 1000).toUTCString();
        expect(retryAfterMs(header, '', now)).toBe(Math.max(0, offsetSeconds * 1000));
      }),
    );
  });

  it.each([
    ['the body retry_after when the header is missing', null, '{"retry_after":2,"ok":false}', 2000],
    ['one second when neither says', null, '', 1000],
    ['one second when the header is garbage', 'soon', 'rate_limited', 1000],
  ])('falls back to %s', (_, header, body, expected) => {
    expect(retryAfterMs(header, body, now)).toBe(expected);
  });
});

describe('slackErrorCode', () => {
  it.each([
    ['no_service', 'no_service'],
    ['  invalid_payload\n', 'invalid_payload'],
    [SLACK_RATE_LIMITED_BODY, 'rate_limited'],
    ['<!DOCTYPE html><html><title>Server Error | Slack</title></html>', undefined],
    ['', undefined],
    ['{not json', undefined],
  ])('reads %j as %j', (body, expected) => {
    expect(slackErrorCode(body)).toBe(expected);
  });
});
