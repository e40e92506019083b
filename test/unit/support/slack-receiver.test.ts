import { type SlackReceiver, startSlackReceiver } from '../../support/slack-receiver';

const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });
const header = (text: string) => ({ type: 'header', text: { type: 'plain_text', text } });

describe('the local Slack receiver', () => {
  let receiver: SlackReceiver;
  beforeEach(async () => {
    receiver = await startSlackReceiver();
  });
  afterEach(async () => {
    await receiver.close();
  });

  const post = async (body: string, contentType = 'application/json') => {
    const res = await fetch(receiver.url, { method: 'POST', headers: { 'content-type': contentType }, body });
    return { status: res.status, body: await res.text(), headers: res.headers };
  };
  const postJson = (payload: unknown) => post(JSON.stringify(payload));

  it.each<[string, string, number, string]>([
    ['a body that is not JSON', 'credwatch: 1 finding', 400, 'invalid_payload'],
    ['a JSON array', '[{"text":"x"}]', 400, 'invalid_payload'],
    ['an empty object', '{}', 400, 'no_text'],
    [
      '60 blocks',
      JSON.stringify({ text: 'x', blocks: Array(60).fill({ type: 'divider' }) }),
      400,
      'invalid_blocks',
    ],
    [
      'a 400-character header',
      JSON.stringify({ text: 'x', blocks: [header('h'.repeat(400))] }),
      400,
      'invalid_blocks',
    ],
    [
      'a 5,000-character section',
      JSON.stringify({ text: 'x', blocks: [section('s'.repeat(5000))] }),
      400,
      'invalid_blocks',
    ],
  ])('refuses %s as Slack does', async (_, body, status, error) => {
    const res = await post(body);

    expect(res).toMatchObject({ status, body: error });
    expect(res.headers.get('content-type')).toBe('text/html');
    expect(receiver.delivered()).toEqual([]);
    expect(receiver.requests).toEqual([
      expect.objectContaining({ answeredWith: status, refusedFor: [expect.any(String)] }),
    ]);
  });

  it('delivers a payload within every limit', async () => {
    const payload = {
      text: 'credwatch: 1 new',
      blocks: [header('h'.repeat(150)), section('s'.repeat(3000))],
    };

    expect(await postJson(payload)).toMatchObject({ status: 200, body: 'ok' });
    expect(receiver.delivered()).toEqual([payload]);
    expect(receiver.requests).toEqual([{ payload, answeredWith: 200 }]);
  });

  it('does not let a scripted ok deliver what Slack would refuse', async () => {
    receiver.script('ok');

    expect(await postJson({ text: 'x', blocks: [section('')] })).toMatchObject({
      status: 400,
      body: 'invalid_blocks',
    });
    expect(receiver.delivered()).toEqual([]);
  });

  it('answers a scripted failure whatever the payload, then judges the next one', async () => {
    receiver.script('rate_limited');

    expect((await post('not json')).status).toBe(429);
    expect((await postJson({ text: 'x' })).status).toBe(200);
    expect(receiver.requests.map((r) => r.answeredWith)).toEqual([429, 200]);
  });

  it('delivers a text over 40,000 characters cut, as Slack posts it', async () => {
    expect((await postJson({ text: 't'.repeat(40_001) })).status).toBe(200);

    expect(receiver.delivered()).toEqual([{ text: 't'.repeat(40_000) }]);
    expect(receiver.requests[0]).toMatchObject({ answeredWith: 200, truncated: true });
  });

  it('takes the form-encoded payload Slack also accepts', async () => {
    const body = new URLSearchParams({ payload: JSON.stringify({ text: 'hi' }) }).toString();

    expect((await post(body, 'application/x-www-form-urlencoded')).status).toBe(200);
    expect(receiver.delivered()).toEqual([{ text: 'hi' }]);
  });

  it('answers, like a Slack webhook, without a request id header', async () => {
    const res = await postJson({ text: 'x' });

    expect(res.headers.get('x-slack-req-id')).toBeNull();
    expect(res.headers.get('x-amzn-requestid')).toBeNull();
  });
  describe('with a rate limit', () => {
    it('answers 429 rate_limited with Retry-After beyond one message a second, and shows nothing then', async () => {
      let t = 0;
      const limited = await startSlackReceiver({ rateLimit: { clock: () => t } });
      const send = () =>
        fetch(limited.url, { method: 'POST', body: JSON.stringify({ text: 'x' }) }).then(async (r) => ({
          status: r.status,
          retryAfter: r.headers.get('retry-after'),
          body: await r.text(),
        }));
      try {
        expect((await send()).status).toBe(200);
        const second = await send();
        expect(second).toEqual({
          status: 429,
          retryAfter: '1',
          body: '{"retry_after":1,"ok":false,"error":"rate_limited"}',
        });
        t += 999;
        expect((await send()).status).toBe(429);
        t += 1;
        expect((await send()).status).toBe(200);
        t += 5_000;
        expect((await send()).status).toBe(200);
        expect(limited.delivered()).toHaveLength(3);
        expect(limited.largestBurst()).toBe(1);
      } finally {
        await limited.close();
      }
    });

    it('allows a configured burst, then the sustained rate', async () => {
      let t = 0;
      const limited = await startSlackReceiver({ rateLimit: { clock: () => t, burst: 3 } });
      const status = () =>
        fetch(limited.url, { method: 'POST', body: JSON.stringify({ text: 'x' }) }).then((r) => r.status);
      try {
        expect([await status(), await status(), await status(), await status()]).toEqual([
          200, 200, 200, 429,
        ]);
        expect(limited.largestBurst()).toBe(3);
        t += 1_000;
        expect([await status(), await status()]).toEqual([200, 429]);
      } finally {
        await limited.close();
      }
    });
  });
});
