import { IamReadError } from '../../../lambda/core/errors';
import { DEFAULT_THRESHOLDS } from '../../../lambda/core/policy';
import type { LastUse } from '../../../lambda/core/types';
import type { IamDirectory, LiveAccessKey, LiveUser } from '../../../lambda/ports';
import { mapLimit, scan } from '../../../lambda/scan';
import { report } from '../../support/report-builder';

const NOW = new Date('2026-11-23T12:00:00Z');
const ACCOUNT = '123456789012';

/** An in-memory IamDirectory that records what it was asked. */
class FakeDirectory implements IamDirectory {
  readonly asked: string[] = [];
  constructor(
    readonly users: LiveUser[],
    readonly keys: Record<string, LiveAccessKey[] | null>,
    readonly lastUsed: Record<string, LastUse | null> = {},
  ) {}
  async listUsers() {
    this.asked.push('listUsers');
    return this.users;
  }
  async listAccessKeys(user: string) {
    this.asked.push(`listAccessKeys:${user}`);
    return user in this.keys ? (this.keys[user] ?? null) : [];
  }
  async accountAlias() {
    this.asked.push('accountAlias');
    return 'example-prod';
  }
  async getAccessKeyLastUsed(id: string) {
    this.asked.push(`getAccessKeyLastUsed:${id}`);
    return this.lastUsed[id] ?? null;
  }
}

const liveUser = (name: string, tags: Record<string, string> = {}): LiveUser => ({
  name,
  arn: `arn:aws:iam::${ACCOUNT}:user/${name}`,
  createdAt: new Date('2024-01-01T00:00:00Z'),
  tags,
});

const CSV = report([
  { user: '<root_account>', mfa_active: 'true' },
  // alice: key 1 is 113 days old (critical); the report says nothing about its id.
  {
    user: 'alice',
    access_key_1_active: 'true',
    access_key_1_last_rotated: '2026-08-02T10:00:00+00:00',
    access_key_1_last_used_date: '2026-11-22T10:00:00+00:00',
    access_key_1_last_used_service: 's3',
    access_key_1_last_used_region: 'us-east-1',
  },
  // bob: an old key that was rotated after the report.
  {
    user: 'bob',
    access_key_1_active: 'true',
    access_key_1_last_rotated: '2025-01-01T00:00:00+00:00',
    access_key_1_last_used_date: '2026-11-22T00:00:00+00:00',
  },
  // carol: a key unused for 60 days per the report, used since.
  {
    user: 'carol',
    access_key_1_active: 'true',
    access_key_1_last_rotated: '2026-09-20T00:00:00+00:00',
    access_key_1_last_used_date: '2026-09-24T00:00:00+00:00',
  },
  // dave: deleted after the report.
  { user: 'dave', access_key_1_active: 'true', access_key_1_last_rotated: '2020-01-01T00:00:00+00:00' },
  // erin: clean; must not be asked about.
  {
    user: 'erin',
    access_key_1_active: 'true',
    access_key_1_last_rotated: '2026-11-01T00:00:00+00:00',
    access_key_1_last_used_date: '2026-11-22T00:00:00+00:00',
  },
]);

const reportSource = (csv: string, generatedAt: Date | null = new Date('2026-11-23T10:00:00Z')) => ({
  getReport: async () => ({ csv, generatedAt }),
});

describe('scan', () => {
  it('judges a report file without any live reads', async () => {
    const result = await scan({ report: reportSource(CSV, null), thresholds: DEFAULT_THRESHOLDS, now: NOW });
    expect(result.accountId).toBe(ACCOUNT);
    expect(result.usersScanned).toBe(6);
    expect(result.reportGeneratedAt).toBeNull();
    expect(result.iamCalls).toEqual({});
    expect(result.findings.map((f) => `${f.user}/${f.rule}/${f.credential}`)).toEqual([
      'alice/access-key-age/key-2026-08-02T10:00:00Z',
      'bob/access-key-age/key-2025-01-01T00:00:00Z',
      'dave/access-key-age/key-2020-01-01T00:00:00Z',
      'carol/access-key-unused/key-2026-09-20T00:00:00Z',
      'dave/access-key-unused/key-2020-01-01T00:00:00Z',
    ]);
    expect(result.counts).toEqual({ critical: 3, warning: 2, info: 0 });
  });

  it('confirms would-be key findings live: ids, rotations, deletions and fresh last use', async () => {
    const directory = new FakeDirectory(
      [
        liveUser('alice', { 'credwatch:owner': 'U024BE7LH' }),
        liveUser('bob'),
        liveUser('carol'),
        liveUser('erin'),
        liveUser('frank'),
      ],
      {
        alice: [{ id: 'AKIAALICE00000000001', active: true, createdAt: new Date('2026-08-02T10:00:00Z') }],
        bob: [{ id: 'AKIABOBNEW0000000001', active: true, createdAt: new Date('2026-11-23T11:00:00Z') }],
        carol: [{ id: 'AKIACAROL00000000001', active: true, createdAt: new Date('2026-09-20T00:00:00Z') }],
        frank: [
          { id: 'AKIAFRANK00000000001', active: true, createdAt: new Date('2026-11-23T11:00:00Z') },
          { id: 'AKIAFRANK00000000002', active: true, createdAt: new Date('2026-11-23T11:30:00Z') },
        ],
      },
      { AKIACAROL00000000001: { date: new Date('2026-11-23T09:00:00Z'), service: 'sts' } },
    );
    const result = await scan({
      report: reportSource(CSV),
      directory,
      thresholds: DEFAULT_THRESHOLDS,
      now: NOW,
    });

    expect(
      result.findings.map((f) => `${f.severity}:${f.user}/${f.rule}/${f.accessKeyId ?? f.credential}`),
    ).toEqual([
      'critical:alice/access-key-age/AKIAALICE00000000001',
      'info:frank/multiple-active-keys/access-keys',
    ]);
    expect(result.findings[0]).toMatchObject({
      accessKeyId: 'AKIAALICE00000000001',
      owner: 'U024BE7LH',
      days: 113,
    });
    // Only users with would-be key findings, and the user newer than the report, were asked about.
    expect(directory.asked.sort()).toEqual(
      [
        'listUsers',
        'listAccessKeys:alice',
        'listAccessKeys:bob',
        'listAccessKeys:carol',
        'listAccessKeys:frank',
        'getAccessKeyLastUsed:AKIACAROL00000000001',
      ].sort(),
    );
    expect(result.usersConfirmed).toBe(4);
    expect(result.usersScanned).toBe(6); // root, alice, bob, carol, erin, frank (dave is gone)
    expect(result.warnings.map((w) => `${w.code}:${w.user}`)).toEqual([
      'user-deleted-since-report:dave',
      'user-newer-than-report:frank',
    ]);
  });

  it('keeps two keys created in the same second apart: two findings, two ids', async () => {
    const csv = report([
      { user: '<root_account>', mfa_active: 'true' },
      {
        user: 'grace',
        access_key_1_active: 'true',
        access_key_1_last_rotated: '2026-01-10T12:00:30+00:00',
        access_key_2_active: 'true',
        access_key_2_last_rotated: '2026-01-10T12:00:30+00:00',
      },
    ]);
    const directory = new FakeDirectory([liveUser('grace')], {
      grace: [
        { id: 'AKIAGRACE00000000001', active: true, createdAt: new Date('2026-01-10T12:00:30.120Z') },
        { id: 'AKIAGRACE00000000002', active: true, createdAt: new Date('2026-01-10T12:00:30.134Z') },
      ],
    });
    const result = await scan({
      report: reportSource(csv),
      directory,
      thresholds: DEFAULT_THRESHOLDS,
      now: NOW,
    });
    const age = result.findings.filter((f) => f.rule === 'access-key-age');
    expect(age.map((f) => f.accessKeyId).sort()).toEqual(['AKIAGRACE00000000001', 'AKIAGRACE00000000002']);
    expect(new Set(age.map((f) => f.id)).size).toBe(2);
  });

  it('matches a live key whose creation time was rounded up to the next second (the report cuts it)', async () => {
    // Created at 12:00:37.9996: the report says 12:00:37, ListAccessKeys (rounded to the ms) 12:00:38.000.
    const csv = report([
      { user: '<root_account>', mfa_active: 'true' },
      {
        user: 'erin',
        access_key_1_active: 'true',
        access_key_1_last_rotated: '2026-01-10T12:00:37+00:00',
        access_key_1_last_used_date: '2026-11-22T10:00:00+00:00',
        access_key_1_last_used_service: 'iam',
        access_key_1_last_used_region: 'us-east-1',
      },
    ]);
    const directory = new FakeDirectory([liveUser('erin')], {
      erin: [{ id: 'AKIAERIN000000000001', active: true, createdAt: new Date('2026-01-10T12:00:38.000Z') }],
    });
    const live = await scan({
      report: reportSource(csv),
      directory,
      thresholds: DEFAULT_THRESHOLDS,
      now: NOW,
    });
    const fromReport = await scan({ report: reportSource(csv), thresholds: DEFAULT_THRESHOLDS, now: NOW });
    const age = live.findings.find((f) => f.rule === 'access-key-age')!;
    expect(age.accessKeyId).toBe('AKIAERIN000000000001');
    expect(age.lastUsed).toEqual({ date: '2026-11-22T10:00:00.000Z', service: 'iam', region: 'us-east-1' });
    expect(live.findings.map((f) => f.id).sort()).toEqual(fromReport.findings.map((f) => f.id).sort());
    expect(live.findings.some((f) => f.rule === 'access-key-unused')).toBe(false);
  });

  it('judges a user whose keys cannot be read from the report, with a warning, and scans the others', async () => {
    const directory = new FakeDirectory([liveUser('alice'), liveUser('bob')], {
      bob: [{ id: 'AKIABOBNEW0000000001', active: true, createdAt: new Date('2025-01-01T00:00:00Z') }],
    });
    const listAccessKeys = directory.listAccessKeys.bind(directory);
    directory.listAccessKeys = async (user: string) => {
      if (user === 'alice') {
        throw new IamReadError(
          'IAM ListAccessKeys for user "alice" failed: AccessDenied: User: arn:aws:sts::123456789012:assumed-role/x/y is not authorized to perform: iam:ListAccessKeys on resource: user alice',
        );
      }
      return listAccessKeys(user);
    };
    const result = await scan({
      report: reportSource(CSV),
      directory,
      thresholds: DEFAULT_THRESHOLDS,
      now: NOW,
    });
    const alice = result.findings.filter((f) => f.user === 'alice');
    expect(alice.map((f) => `${f.rule}:${f.severity}:${f.unconfirmed}`)).toEqual([
      'access-key-age:critical:true',
    ]);
    expect(result.findings.find((f) => f.user === 'bob')?.unconfirmed).toBeUndefined();
    expect(result.usersUnconfirmed).toBe(1);
    expect(result.warnings).toContainEqual(
      expect.objectContaining({
        code: 'user-keys-unreadable',
        user: 'alice',
        message: expect.stringMatching(
          /^user "alice": its access keys could not be read \(IAM ListAccessKeys/,
        ),
      }),
    );
  });

  it('still fails the scan for an IAM error that is not a denial of one user', async () => {
    const directory = new FakeDirectory([liveUser('alice')], {});
    directory.listAccessKeys = async () => {
      throw new IamReadError('IAM ListAccessKeys for user "alice" failed: ServiceFailure');
    };
    await expect(
      scan({ report: reportSource(CSV), directory, thresholds: DEFAULT_THRESHOLDS, now: NOW }),
    ).rejects.toThrow('ServiceFailure');
  });

  it('stops confirming at the deadline: the rest are judged from the report, marked and counted', async () => {
    const directory = new FakeDirectory([liveUser('alice'), liveUser('bob')], {});
    let t = 0;
    const result = await scan({
      report: reportSource(CSV),
      directory,
      thresholds: DEFAULT_THRESHOLDS,
      now: NOW,
      concurrency: 1,
      confirmDeadline: 1,
      // The first user is confirmed at t=0; the clock then passes the deadline.
      clock: () => t++,
    });
    expect(directory.asked.filter((a) => a.startsWith('listAccessKeys'))).toHaveLength(1);
    expect(result.usersConfirmed).toBe(1);
    expect(result.usersUnconfirmed).toBeGreaterThanOrEqual(1);
    expect(result.warnings.map((w) => w.code)).toContain('user-not-confirmed');
    expect(result.findings.some((f) => f.unconfirmed)).toBe(true);
  });

  it('drops a user deleted between listing and confirming, with a warning', async () => {
    const directory = new FakeDirectory([liveUser('alice')], { alice: null });
    const result = await scan({
      report: reportSource(
        report([
          { user: 'alice', access_key_1_active: 'true', access_key_1_last_rotated: '2020-01-01T00:00:00Z' },
        ]),
      ),
      directory,
      thresholds: DEFAULT_THRESHOLDS,
      now: NOW,
    });
    expect(result.findings).toEqual([]);
    expect(result.warnings).toEqual([
      expect.objectContaining({
        code: 'user-deleted-since-report',
        user: 'alice',
        message: 'user "alice" was deleted during the scan; not judged',
      }),
    ]);
  });

  it('reports a key deactivated since the report as no finding', async () => {
    const csv = report([
      {
        user: 'alice',
        access_key_1_active: 'true',
        access_key_1_last_rotated: '2020-01-01T00:00:00Z',
        access_key_1_last_used_date: '2026-11-20T00:00:00Z',
      },
    ]);
    const directory = new FakeDirectory([liveUser('alice')], {
      alice: [{ id: 'AKIAALICE00000000001', active: false, createdAt: new Date('2020-01-01T00:00:00Z') }],
    });
    const result = await scan({
      report: reportSource(csv),
      directory,
      thresholds: DEFAULT_THRESHOLDS,
      now: NOW,
    });
    expect(result.findings).toEqual([]);
  });

  it('passes bad tag values through as warnings', async () => {
    const directory = new FakeDirectory([liveUser('erin', { 'credwatch:max-key-age-days': 'soon' })], {});
    const result = await scan({
      report: reportSource(CSV),
      directory,
      thresholds: DEFAULT_THRESHOLDS,
      now: NOW,
    });
    expect(result.warnings).toContainEqual(
      expect.objectContaining({ code: 'bad-tag', user: 'erin', tag: 'credwatch:max-key-age-days' }),
    );
  });

  it('fails when the report source fails: a partial result is never reported', async () => {
    const failing = { getReport: async () => Promise.reject(new Error('IAM is down')) };
    await expect(scan({ report: failing, thresholds: DEFAULT_THRESHOLDS, now: NOW })).rejects.toThrow(
      'IAM is down',
    );
  });

  it('fails when confirming a user fails', async () => {
    const directory = new FakeDirectory([liveUser('alice')], {});
    directory.listAccessKeys = async () => Promise.reject(new Error('AccessDenied'));
    const csv = report([
      { user: 'alice', access_key_1_active: 'true', access_key_1_last_rotated: '2020-01-01T00:00:00Z' },
    ]);
    await expect(
      scan({ report: reportSource(csv), directory, thresholds: DEFAULT_THRESHOLDS, now: NOW }),
    ).rejects.toThrow('AccessDenied');
  });
});

describe('mapLimit', () => {
  it('keeps input order and never runs more than the limit at once', async () => {
    let running = 0;
    let peak = 0;
    const out = await mapLimit([5, 1, 4, 2, 3, 0], 2, async (n) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setImmediate(r));
      running--;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30, 0]);
    expect(peak).toBe(2);
  });
});
