import fc from 'fast-check';
import { DAY_MS } from '../../../lambda/core/dates';
import { evaluate, grade } from '../../../lambda/core/evaluate';
import { DEFAULT_THRESHOLDS, type Thresholds, thresholdsSchema } from '../../../lambda/core/policy';
import {
  type AccessKey,
  type CredentialRecord,
  type Finding,
  severityRank,
} from '../../../lambda/core/types';

const NOW = new Date('2026-11-23T12:00:00Z');
const daysAgo = (d: number, extraMs = 0) => new Date(NOW.getTime() - d * DAY_MS - extraMs);

function user(name: string, over: Partial<CredentialRecord> = {}): CredentialRecord {
  return {
    user: name,
    arn: `arn:aws:iam::123456789012:user/${name}`,
    isRoot: false,
    createdAt: daysAgo(1000),
    password: { enabled: false, lastUsed: null, lastChanged: null },
    mfaActive: true,
    accessKeys: [],
    line: 2,
    ...over,
  };
}

const key = (
  createdDaysAgo: number,
  usedDaysAgo: number | null,
  over: Partial<AccessKey> = {},
): AccessKey => ({
  slot: 1,
  active: true,
  createdAt: daysAgo(createdDaysAgo),
  lastUsed: usedDaysAgo === null ? null : { date: daysAgo(usedDaysAgo), service: 's3', region: 'us-east-1' },
  ...over,
});

const run = (
  records: CredentialRecord[],
  opts: { thresholds?: Thresholds; tags?: Record<string, Record<string, string>> } = {},
) =>
  evaluate({
    records,
    thresholds: opts.thresholds ?? DEFAULT_THRESHOLDS,
    now: NOW,
    ...(opts.tags ? { tags: new Map(Object.entries(opts.tags)) } : {}),
  });

const rules = (findings: Finding[]) => findings.map((f) => `${f.rule}:${f.severity}`);

describe('evaluate', () => {
  describe('access key age (defaults: warning at 80 days, critical at 90)', () => {
    it.each([
      [79, null],
      [80, 'warning'],
      [89, 'warning'],
      [90, 'critical'],
      [91, 'critical'],
    ])('a key %i days old is %s', (age, severity) => {
      const { findings } = run([user('alice', { accessKeys: [key(age, 0)] })]);
      const f = findings.find((x) => x.rule === 'access-key-age');
      expect(f?.severity ?? null).toBe(severity);
      if (f) {
        expect(f.days).toBe(age);
        expect(f.thresholdDays).toBe(severity === 'critical' ? 90 : 80);
      }
    });

    it('counts whole days: 89 days and 23 hours is 89 days', () => {
      const k = { ...key(0, 0), createdAt: new Date(NOW.getTime() - 90 * DAY_MS + 3_600_000) };
      const f = run([user('alice', { accessKeys: [k] })]).findings.find((x) => x.rule === 'access-key-age');
      expect(f).toMatchObject({ severity: 'warning', days: 89 });
    });

    it('ignores inactive keys', () => {
      expect(run([user('alice', { accessKeys: [key(400, 300, { active: false })] })]).findings).toEqual([]);
    });

    it('gives the finding a stable id, the key id when known, and the facts behind it', () => {
      const { findings } = run([user('alice', { accessKeys: [key(95, 3, { id: 'AKIAEXAMPLE000000001' })] })]);
      expect(findings).toEqual([
        {
          id: '123456789012/alice/access-key-age/key-2026-08-20T12:00:00Z',
          accountId: '123456789012',
          user: 'alice',
          arn: 'arn:aws:iam::123456789012:user/alice',
          rule: 'access-key-age',
          severity: 'critical',
          credential: 'key-2026-08-20T12:00:00Z',
          accessKeyId: 'AKIAEXAMPLE000000001',
          days: 95,
          thresholdDays: 90,
          lastUsed: { date: daysAgo(3).toISOString(), service: 's3', region: 'us-east-1' },
          summary: 'Access key AKIAEXAMPLE000000001 of alice is 95 days old (critical at 90); rotate it.',
        },
      ]);
    });

    it('names a key by its creation time, the same whether read from the report or live', () => {
      const fromReport = run([user('alice', { accessKeys: [key(95, 3, { slot: 2 })] })]).findings[0]!;
      const live = run([user('alice', { accessKeys: [key(95, 3, { id: 'AKIAEXAMPLE000000001' })] })])
        .findings[0]!;
      expect(fromReport.id).toBe('123456789012/alice/access-key-age/key-2026-08-20T12:00:00Z');
      expect(live.id).toBe(fromReport.id);
      expect(fromReport.accessKeyId).toBeUndefined();
      expect(live.accessKeyId).toBe('AKIAEXAMPLE000000001');
    });

    it('tells apart two keys of a user created in the same second', () => {
      const { findings } = run([user('alice', { accessKeys: [key(95, 3), key(95, 3, { slot: 2 })] })]);
      expect(findings.filter((f) => f.rule === 'access-key-age').map((f) => f.credential)).toEqual([
        'key-2026-08-20T12:00:00Z-1',
        'key-2026-08-20T12:00:00Z-2',
      ]);
    });
  });

  describe('access key unused (default: warning at 45 days)', () => {
    it.each([
      [44, null],
      [45, 'warning'],
      [400, 'warning'],
    ])('a key last used %i days ago is %s', (idle, severity) => {
      const { findings } = run([user('bob', { accessKeys: [key(50, idle)] })]);
      expect(findings.find((f) => f.rule === 'access-key-unused')?.severity ?? null).toBe(severity);
    });

    it('counts a never-used key from its creation', () => {
      const { findings } = run([user('bob', { accessKeys: [key(46, null)] })]);
      expect(findings).toEqual([
        expect.objectContaining({
          rule: 'access-key-unused',
          days: 46,
          lastUsed: null,
          summary:
            'Access key 1 of bob has never been used in the 46 days since it was created (warning at 45); deactivate or delete it.',
        }),
      ]);
    });
  });

  describe('console password', () => {
    it('without MFA is critical', () => {
      const { findings } = run([
        user('dave', {
          mfaActive: false,
          password: { enabled: true, lastUsed: daysAgo(1), lastChanged: daysAgo(10) },
        }),
      ]);
      expect(rules(findings)).toEqual(['password-without-mfa:critical']);
    });

    it.each([
      [44, []],
      [45, ['password-unused:warning']],
    ])('last used %i days ago gives %j', (idle, expected) => {
      const { findings } = run([
        user('dave', { password: { enabled: true, lastUsed: daysAgo(idle), lastChanged: daysAgo(500) } }),
      ]);
      expect(rules(findings)).toEqual(expected);
    });

    it('never used counts from when it was set', () => {
      const { findings } = run([
        user('dave', { password: { enabled: true, lastUsed: null, lastChanged: daysAgo(50) } }),
      ]);
      expect(findings).toEqual([expect.objectContaining({ rule: 'password-unused', days: 50 })]);
    });

    it('is not judged when disabled, even with an old last use (a user whose password was removed)', () => {
      const { findings } = run([
        user('x', {
          mfaActive: false,
          password: { enabled: false, lastUsed: daysAgo(500), lastChanged: null },
        }),
      ]);
      expect(findings).toEqual([]);
    });

    it('age is off by default and judged when configured', () => {
      const old = user('dave', {
        password: { enabled: true, lastUsed: daysAgo(1), lastChanged: daysAgo(400) },
      });
      expect(run([old]).findings).toEqual([]);
      const thresholds = thresholdsSchema.parse({ passwordAge: { warningDays: 180, criticalDays: 365 } });
      expect(rules(run([old], { thresholds }).findings)).toEqual(['password-age:critical']);
    });
  });

  describe('root user', () => {
    const root = (over: Partial<CredentialRecord> = {}) =>
      user('<root_account>', { isRoot: true, arn: 'arn:aws:iam::123456789012:root', ...over });

    it('with an active access key and no MFA is critical twice', () => {
      const { findings } = run([root({ mfaActive: false, accessKeys: [key(5, 1)] })]);
      expect(rules(findings)).toEqual(['root-access-key:critical', 'root-without-mfa:critical']);
    });

    it('with MFA and only an inactive key has no finding', () => {
      expect(run([root({ accessKeys: [key(900, 800, { active: false })] })]).findings).toEqual([]);
    });

    it('is not judged by the user key-age rules (its key is critical already)', () => {
      const { findings } = run([root({ accessKeys: [key(900, 800)] })]);
      expect(rules(findings)).toEqual(['root-access-key:critical']);
    });
  });

  it('reports more than one active key as info', () => {
    const { findings } = run([user('erin', { accessKeys: [key(10, 1), key(5, 1, { slot: 2 })] })]);
    expect(rules(findings)).toEqual(['multiple-active-keys:info']);
  });

  it('turns a rule off with "off" and null thresholds', () => {
    const thresholds = thresholdsSchema.parse({
      accessKeyAge: { warningDays: null, criticalDays: null },
      multipleActiveKeys: 'off',
    });
    const { findings } = run([user('erin', { accessKeys: [key(500, 1), key(500, 1, { slot: 2 })] })], {
      thresholds,
    });
    expect(findings).toEqual([]);
  });

  describe('tags', () => {
    const old = (age: number) => user('carol', { accessKeys: [key(age, 0)] });

    it.each([
      [{ 'credwatch:max-key-age-days': '30' }, 19, null],
      [{ 'credwatch:max-key-age-days': '30' }, 20, 'warning'],
      [{ 'credwatch:max-key-age-days': '30' }, 25, 'warning'],
      [{ 'credwatch:max-key-age-days': '30' }, 30, 'critical'],
      [{ 'credwatch:max-key-age-days': '180' }, 100, null],
      [{ 'credwatch:max-key-age-days': '180' }, 170, 'warning'],
      [{ 'credwatch:warn-key-age-days': '60' }, 60, 'warning'],
      [{ 'credwatch:warn-key-age-days': '60', 'credwatch:max-key-age-days': '70' }, 70, 'critical'],
    ])('%j: a key %i days old is %s', (tags, age, severity) => {
      const { findings, warnings } = run([old(age)], { tags: { carol: tags } });
      expect(warnings).toEqual([]);
      expect(findings.find((f) => f.rule === 'access-key-age')?.severity ?? null).toBe(severity);
    });

    it.each([
      ['credwatch:max-key-age-days', 'ninety', 'expected a whole number of days, at least 1'],
      ['credwatch:max-key-age-days', '0', 'expected a whole number of days, at least 1'],
      ['credwatch:warn-key-age-days', '12.5', 'expected a whole number of days, at least 1'],
      ['credwatch:warn-key-age-days', '95', 'must be less than the critical age (90 days); using 80/90'],
      [
        'credwatch:owner',
        'alice at example',
        'expected a Slack member id (U…/W…), a user group id (S…) or an e-mail address',
      ],
      ['credwatch:exempt', 'forever', 'expected "until=YYYY-MM-DD reason=..."'],
      ['credwatch:exempt', 'soon until=2027-01-01 reason=x', '"soon" is not until=... or reason=...'],
      ['credwatch:exempt', 'reason=vendor', 'until=YYYY-MM-DD is required'],
      ['credwatch:exempt', 'until=2026-02-30 reason=x', 'until "2026-02-30" is not a date (YYYY-MM-DD)'],
      ['credwatch:exempt', 'until=2027-01-01', 'reason=... is required'],
    ])(
      'a bad %s="%s" becomes a warning naming the user and tag, and the defaults apply',
      (tag, value, problem) => {
        const { findings, warnings } = run([old(85)], { tags: { carol: { [tag]: value } } });
        expect(warnings).toEqual([
          {
            code: 'bad-tag',
            user: 'carol',
            tag,
            message: `user "carol": tag ${tag}="${value}" ignored: ${problem}`,
          },
        ]);
        expect(findings).toEqual([expect.objectContaining({ rule: 'access-key-age', severity: 'warning' })]);
        expect(findings[0]!.exemption).toBeUndefined();
      },
    );

    it.each(['U024BE7LH', 'W012A3CDE', 'S0614TZR7', 'carol@example.com'])(
      'carries the owner %s on every finding of the user',
      (owner) => {
        const { findings } = run([user('carol', { accessKeys: [key(95, 50)] })], {
          tags: { carol: { 'credwatch:owner': owner } },
        });
        expect(findings.map((f) => f.owner)).toEqual([owner, owner]);
      },
    );

    it('an exemption in force marks the findings exempt through its until day', () => {
      const tags = {
        carol: { 'credwatch:exempt': 'until=2026-11-23 reason=vendor integration: ticket SEC-12' },
      };
      const { findings } = run([old(120)], { tags });
      expect(findings).toEqual([
        expect.objectContaining({
          rule: 'access-key-age',
          exemption: { until: '2026-11-23', reason: 'vendor integration: ticket SEC-12' },
        }),
        // The exemption itself is a notice, announced once: nobody silences a rule unseen.
        expect.objectContaining({
          rule: 'exemption-granted',
          severity: 'info',
          credential: expect.stringMatching(/^until-2026-11-23-[0-9a-f]{8}$/),
          summary:
            "carol is exempted from credwatch's findings until 2026-11-23 by the credwatch:exempt tag; reason: vendor integration: ticket SEC-12.",
        }),
      ]);
      expect(findings[1]!.exemption).toBeUndefined();
    });

    it('caps an exemption at tagLimits.maxExemptionDays (default 90) from the day it was first seen', () => {
      const tags = { carol: { 'credwatch:exempt': 'until=9999-12-31 reason=forever' } };
      const { findings, warnings } = run([old(120)], { tags });
      expect(warnings).toEqual([
        {
          code: 'exemption-capped',
          user: 'carol',
          tag: 'credwatch:exempt',
          message:
            'user "carol": tag credwatch:exempt until 9999-12-31 is longer than the longest exemption (90 days, thresholds.tagLimits.maxExemptionDays); in force until 2027-02-21',
        },
      ]);
      expect(findings[0]!.exemption).toEqual({
        until: '2027-02-21',
        reason: 'forever',
        requestedUntil: '9999-12-31',
      });
      expect(findings[1]!.summary).toMatch(
        /until 2027-02-21 \(the tag asks for 9999-12-31; capped at 90 days\)/,
      );
    });

    it('counts the cap from when the exemption was first seen, so it ends, and then its findings apply again', () => {
      const tags = { carol: { 'credwatch:exempt': 'until=9999-12-31 reason=forever' } };
      const first = run([old(120)], { tags });
      const notice = first.findings.find((f) => f.rule === 'exemption-granted')!;
      // First announced 91 days before NOW: the 90 days have passed.
      const knownSince = new Map([[notice.id, new Date(NOW.getTime() - 91 * DAY_MS)]]);
      const later = evaluate({
        records: [old(120)],
        thresholds: DEFAULT_THRESHOLDS,
        now: NOW,
        knownSince,
        tags: new Map(Object.entries(tags)),
      });
      // The notice stays (same id, never reminded) as long as the tag does: it anchors the cap.
      expect(rules(later.findings)).toEqual([
        'access-key-age:critical',
        'exemption-expired:warning',
        'exemption-granted:info',
      ]);
      expect(later.findings.find((f) => f.rule === 'exemption-granted')!.id).toBe(notice.id);
      expect(later.findings.every((f) => f.exemption === undefined)).toBe(true);
    });

    it('a changed exemption is a new notice (new id); an unchanged one keeps its id', () => {
      const notice = (value: string) =>
        run([old(120)], { tags: { carol: { 'credwatch:exempt': value } } }).findings.find(
          (f) => f.rule === 'exemption-granted',
        )!.id;
      const base = notice('until=2026-12-31 reason=vendor');
      expect(notice('until=2026-12-31 reason=vendor')).toBe(base);
      expect(notice('until=2027-01-31 reason=vendor')).not.toBe(base);
      expect(notice('until=2026-12-31 reason=another vendor')).not.toBe(base);
    });

    it.each([
      [{ 'credwatch:max-key-age-days': '3650' }, 365, 'credwatch:max-key-age-days', '3650'],
      [{ 'credwatch:max-key-age-days': '99999999' }, 365, 'credwatch:max-key-age-days', '99999999'],
    ])('caps %j at tagLimits.maxKeyAgeDays (365) with a warning', (tags, ceiling, tag, value) => {
      const { findings, warnings } = run([old(400)], { tags: { carol: tags } });
      expect(warnings).toEqual([
        {
          code: 'tag-capped',
          user: 'carol',
          tag,
          message: `user "carol": tag ${tag}="${value}" is above the ceiling of ${ceiling} days (thresholds.tagLimits.maxKeyAgeDays); using ${ceiling}`,
        },
      ]);
      expect(findings.find((f) => f.rule === 'access-key-age')).toMatchObject({
        severity: 'critical',
        thresholdDays: 365,
      });
    });

    it('takes the ceilings from the configuration', () => {
      const thresholds = thresholdsSchema.parse({ tagLimits: { maxKeyAgeDays: 120, maxExemptionDays: 7 } });
      const { findings } = run([old(130)], {
        thresholds,
        tags: {
          carol: { 'credwatch:max-key-age-days': '200', 'credwatch:exempt': 'until=2026-12-31 reason=x' },
        },
      });
      expect(findings[0]).toMatchObject({ rule: 'access-key-age', severity: 'critical', thresholdDays: 120 });
      expect(findings[0]!.exemption).toEqual({
        until: '2026-11-30',
        reason: 'x',
        requestedUntil: '2026-12-31',
      });
    });

    it.each([
      'https://evil.example/reset@evil.example.com',
      'mailto:carol@example.com',
      '<mailto:carol@example.com|click>',
      'carol@example',
      'carol@@example.com',
      'carol@exa mple.com',
      'U1',
    ])('refuses the owner %s: only member/group ids and plain e-mail addresses', (owner) => {
      const { findings, warnings } = run([old(95)], { tags: { carol: { 'credwatch:owner': owner } } });
      expect(warnings.map((w) => w.code)).toEqual(['bad-tag']);
      expect(findings[0]!.owner).toBeUndefined();
    });

    it.each([
      ['reason=vendor pipeline until=2026-12-31', { until: '2026-12-31', reason: 'vendor pipeline' }],
      [
        'until=2026-12-31; reason=legacy form with a semicolon',
        { until: '2026-12-31', reason: 'legacy form with a semicolon' },
      ],
      [
        'until=2026-12-31 reason=SEC-142/jira @ops: rotate in Q1',
        { until: '2026-12-31', reason: 'SEC-142/jira @ops: rotate in Q1' },
      ],
    ])(
      'reads the exemption "%s" (IAM tag values allow no ";", so spaces separate the parts)',
      (value, exemption) => {
        const { findings, warnings } = run([old(120)], { tags: { carol: { 'credwatch:exempt': value } } });
        expect(warnings).toEqual([]);
        expect(findings[0]!.exemption).toEqual(exemption);
        expect(rules(findings)).toEqual(['access-key-age:critical', 'exemption-granted:info']);
      },
    );

    it('an expired exemption no longer applies and is itself reported', () => {
      const tags = { carol: { 'credwatch:exempt': 'reason=vendor; until=2026-11-22' } };
      const { findings } = run([old(120)], { tags });
      expect(rules(findings)).toEqual([
        'access-key-age:critical',
        'exemption-expired:warning',
        'exemption-granted:info',
      ]);
      expect(findings[2]!.summary).toBe(
        'The credwatch:exempt exemption of carol ended on 2026-11-22; reason: vendor.',
      );
      expect(findings.every((f) => f.exemption === undefined)).toBe(true);
      expect(findings[1]!.summary).toBe(
        'The credwatch:exempt tag of carol expired on 2026-11-22 (reason: vendor); its findings apply again. Remove or renew the tag.',
      );
    });
  });

  it('orders findings most severe first, then by user, rule and credential', () => {
    const { findings } = run([
      user('zed', { accessKeys: [key(100, 50)] }),
      user('amy', { accessKeys: [key(85, 1), key(5, 1, { slot: 2 })] }),
    ]);
    expect(findings.map((f) => `${f.severity}:${f.user}:${f.rule}`)).toEqual([
      'critical:zed:access-key-age',
      'warning:amy:access-key-age',
      'warning:zed:access-key-unused',
      'info:amy:multiple-active-keys',
    ]);
  });

  it('never reads the clock: the same input gives the same findings', () => {
    const records = [user('a', { accessKeys: [key(100, 60)] })];
    expect(run(records)).toEqual(run(records));
  });

  describe('properties', () => {
    const thresholdsArb = fc
      .tuple(fc.integer({ min: 1, max: 500 }), fc.integer({ min: 1, max: 500 }))
      .filter(([w, c]) => w < c)
      .map(([warningDays, criticalDays]) =>
        thresholdsSchema.parse({ accessKeyAge: { warningDays, criticalDays } }),
      );

    it('an older key is never less severe', () => {
      fc.assert(
        fc.property(thresholdsArb, fc.nat(2000), fc.nat(2000), (thresholds, a, b) => {
          const [young, old] = a <= b ? [a, b] : [b, a];
          const sev = (age: number) => {
            const f = run([user('u', { accessKeys: [key(age, 0)] })], { thresholds }).findings.find(
              (x) => x.rule === 'access-key-age',
            );
            return f ? severityRank(f.severity) : -1;
          };
          expect(sev(old)).toBeGreaterThanOrEqual(sev(young));
        }),
      );
    });

    it('a key idle longer is never less severe', () => {
      fc.assert(
        fc.property(fc.nat(1000), fc.nat(1000), (a, b) => {
          const [less, more] = a <= b ? [a, b] : [b, a];
          const sev = (idle: number) =>
            run([user('u', { accessKeys: [key(2000, idle)] })]).findings.filter(
              (x) => x.rule === 'access-key-unused',
            ).length;
          expect(sev(more)).toBeGreaterThanOrEqual(sev(less));
        }),
      );
    });

    it('grade reaches a level exactly at its threshold and not a day before', () => {
      fc.assert(
        fc.property(thresholdsArb, (t) => {
          const rule = t.accessKeyAge;
          expect(grade(rule.criticalDays! - 1, rule)?.severity).not.toBe('critical');
          expect(grade(rule.criticalDays!, rule)?.severity).toBe('critical');
          expect(grade(rule.warningDays! - 1, rule)).toBeNull();
          expect(grade(rule.warningDays!, rule)?.severity).toBe(
            rule.warningDays! < rule.criticalDays! ? 'warning' : 'critical',
          );
        }),
      );
    });

    it('finding ids are unique within a scan', () => {
      const keyArb = fc.record({ age: fc.nat(400), used: fc.option(fc.nat(400)), active: fc.boolean() });
      fc.assert(
        fc.property(fc.array(fc.array(keyArb, { maxLength: 2 }), { maxLength: 20 }), (users) => {
          const records = users.map((ks, i) =>
            user(`u${i}`, {
              accessKeys: ks.map((k, s) =>
                key(k.age, k.used === null ? null : Math.min(k.used, k.age), {
                  slot: (s + 1) as 1 | 2,
                  active: k.active,
                }),
              ),
            }),
          );
          const ids = run(records).findings.map((f) => f.id);
          expect(new Set(ids).size).toBe(ids.length);
        }),
      );
    });
  });
});

describe('thresholdsSchema', () => {
  it('has the documented defaults', () => {
    expect(DEFAULT_THRESHOLDS).toEqual({
      accessKeyAge: { warningDays: 80, criticalDays: 90 },
      accessKeyUnused: { warningDays: 45, criticalDays: null },
      passwordUnused: { warningDays: 45, criticalDays: null },
      passwordAge: { warningDays: null, criticalDays: null },
      passwordWithoutMfa: 'critical',
      rootAccessKey: 'critical',
      rootWithoutMfa: 'critical',
      rootCredentialsRemoved: 'info',
      rootUsed: { withinDays: 1, severity: 'warning' },
      rootVirtualMfa: 'critical',
      multipleActiveKeys: 'info',
      exemptionExpired: 'warning',
      exemptionGranted: 'info',
      tagLimits: { maxExemptionDays: 90, maxKeyAgeDays: 365 },
    });
  });

  it('fills what a partial configuration leaves out', () => {
    expect(thresholdsSchema.parse({ accessKeyAge: { criticalDays: 120 } }).accessKeyAge).toEqual({
      warningDays: 80,
      criticalDays: 120,
    });
  });

  it.each([
    [
      { accessKeyAge: { warningDays: 90, criticalDays: 90 } },
      'accessKeyAge.warningDays',
      'warningDays must be less than criticalDays',
    ],
    [
      { accessKeyAge: { criticalDays: 60 } },
      'accessKeyAge.warningDays',
      'warningDays must be less than criticalDays',
    ],
    [
      { accessKeyAge: { warningDays: 0 } },
      'accessKeyAge.warningDays',
      'Too small: expected number to be >=1',
    ],
    [
      { accessKeyAge: { warningDays: 1.5 } },
      'accessKeyAge.warningDays',
      'Invalid input: expected int, received number',
    ],
    [{ accessKeyAge: { days: 3 } }, 'accessKeyAge', 'Unrecognized key: "days"'],
    [
      { rootAccessKey: 'loud' },
      'rootAccessKey',
      'Invalid option: expected one of "info"|"warning"|"critical"|"off"',
    ],
    [{ keyAge: {} }, '', 'Unrecognized key: "keyAge"'],
  ])('rejects %j at %s', (input, path, text) => {
    const result = thresholdsSchema.safeParse(input);
    expect(result.success).toBe(false);
    const issue = result.error!.issues[0]!;
    expect(issue.path.join('.')).toBe(path);
    expect(issue.message).toContain(text);
  });
});
