import { ocsfEvents, renderOcsf } from '../../../lambda/formats/ocsf';
import {
  EXAMPLE,
  fixtureReports,
  fullFinding,
  hostileReport,
  RENDER,
  resultOf,
  scanCsv,
  scanFile,
} from './support';

/**
 * A structural check of OCSF 1.8.0 Detection Finding events, hand-written from the schema at
 * https://github.com/ocsf/ocsf-schema, tag 1.8.0:
 * - events/base_event.json: required activity_id, category_uid, class_uid, metadata, severity_id,
 *   time, type_uid (the cloud profile it includes, profiles/cloud.json, makes `cloud` required);
 * - events/findings/finding.json: required finding_info; activity_id 1 Create, 2 Update, 3 Close;
 *   status_id 1 New .. 6 Deleted (99 Other);
 * - events/findings/detection_finding.json: uid 4 in category findings (uid 2), so class_uid 2004;
 *   type_uid = class_uid * 100 + activity_id;
 * - objects/metadata.json: required product, version; objects/product.json extends _entity
 *   (at_least_one of name, uid); objects/finding_info.json: required uid; objects/cloud.json:
 *   required provider; objects/account.json extends _entity (at_least_one of name, uid);
 *   objects/analytic.json: required type_id (1 Rule); objects/user.json: at_least_one of account,
 *   name, uid;
 * - dictionary.json: severity_id 0-6 or 99, timestamp_t is epoch milliseconds (long), strings,
 *   arrays as typed.
 * Attribute names outside these objects' attribute lists are errors (the OCSF validator says
 * "attribute not defined"), so each object's allowed names are listed too.
 */
const ALLOWED: Record<string, readonly string[]> = {
  // base_event + finding + detection_finding + the cloud profile's attributes.
  event: [
    'activity_id',
    'activity_name',
    'category_name',
    'category_uid',
    'class_name',
    'class_uid',
    'count',
    'duration',
    'end_time',
    'enrichments',
    'message',
    'metadata',
    'observables',
    'raw_data',
    'severity',
    'severity_id',
    'start_time',
    'status',
    'status_code',
    'status_detail',
    'status_id',
    'time',
    'timezone_offset',
    'type_name',
    'type_uid',
    'unmapped',
    'api',
    'cloud',
    'comment',
    'confidence',
    'confidence_id',
    'confidence_score',
    'device',
    'finding_info',
    'vendor_attributes',
    'anomaly_analyses',
    'evidences',
    'impact',
    'impact_id',
    'impact_score',
    'is_alert',
    'malware',
    'malware_scan_info',
    'remediation',
    'resources',
    'risk_details',
    'risk_level',
    'risk_level_id',
    'risk_score',
    'vulnerabilities',
  ],
  metadata: [
    'correlation_uid',
    'debug',
    'event_code',
    'extension',
    'extensions',
    'is_truncated',
    'labels',
    'log_format',
    'log_level',
    'log_name',
    'log_provider',
    'log_source',
    'log_version',
    'logged_time',
    'loggers',
    'modified_time',
    'original_event_uid',
    'original_time',
    'processed_time',
    'product',
    'profiles',
    'reporter',
    'sequence',
    'source',
    'tags',
    'tenant_uid',
    'total_queued_duration',
    'transformation_info_list',
    'transmit_time',
    'type',
    'uid',
    'untruncated_size',
    'version',
  ],
  product: ['cpe_name', 'feature', 'lang', 'name', 'path', 'uid', 'url_string', 'vendor_name', 'version'],
  finding_info: [
    'analytic',
    'attack_graph',
    'attacks',
    'created_time',
    'data_sources',
    'desc',
    'first_seen_time',
    'kill_chain',
    'last_seen_time',
    'modified_time',
    'product',
    'product_uid',
    'related_analytics',
    'related_events',
    'related_events_count',
    'src_url',
    'tags',
    'title',
    'traits',
    'types',
    'uid',
    'uid_alt',
  ],
  analytic: [
    'algorithm',
    'category',
    'desc',
    'name',
    'related_analytics',
    'state',
    'state_id',
    'type',
    'type_id',
    'uid',
    'version',
  ],
  // resource_details + _resource.
  resource: [
    'agent_list',
    'cloud_partition',
    'criticality',
    'group',
    'hostname',
    'ip',
    'is_backed_up',
    'name',
    'namespace',
    'owner',
    'provider',
    'region',
    'resource_relationship',
    'role',
    'role_id',
    'version',
    'zone',
    'created_time',
    'data',
    'labels',
    'modified_time',
    'tags',
    'type',
    'uid',
    'uid_alt',
  ],
  cloud: ['account', 'cloud_partition', 'org', 'project_uid', 'provider', 'region', 'zone'],
  account: [
    'is_disabled',
    'is_locked',
    'is_on_premises_sync_enabled',
    'labels',
    'name',
    'tags',
    'type',
    'type_id',
    'uid',
  ],
  user: [
    'account',
    'credential_uid',
    'display_name',
    'domain',
    'email_addr',
    'forward_addr',
    'full_name',
    'groups',
    'has_mfa',
    'ldap_person',
    'name',
    'org',
    'phone_number',
    'programmatic_credentials',
    'risk_level',
    'risk_level_id',
    'risk_score',
    'type',
    'type_id',
    'uid',
    'uid_alt',
  ],
};

type Json = Record<string, unknown>;

/** Every problem of one event, as `path: what`; empty when it conforms. */
function ocsfProblems(e: Json): string[] {
  const problems: string[] = [];
  const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
  const need = (
    o: Json,
    path: string,
    key: string,
    type: 'string' | 'integer' | 'object' | 'array' | 'boolean',
  ) => {
    const v = o[key];
    const ok =
      type === 'integer'
        ? Number.isInteger(v)
        : type === 'object'
          ? isObj(v)
          : type === 'array'
            ? Array.isArray(v)
            : typeof v === type && (type !== 'string' || v !== '');
    if (!ok) problems.push(`${path}${key}: required ${type}, got ${JSON.stringify(v)}`);
  };
  const only = (o: Json, path: string, kind: string) => {
    for (const k of Object.keys(o))
      if (!ALLOWED[kind]!.includes(k)) problems.push(`${path}${k}: not an attribute of ${kind}`);
  };
  const oneOf = (o: Json, path: string, keys: string[]) => {
    if (!keys.some((k) => typeof o[k] === 'string' && o[k] !== ''))
      problems.push(`${path}: needs one of ${keys.join(', ')}`);
  };

  only(e, '', 'event');
  for (const k of ['activity_id', 'category_uid', 'class_uid', 'severity_id', 'time', 'type_uid'] as const)
    need(e, '', k, 'integer');
  need(e, '', 'metadata', 'object');
  need(e, '', 'finding_info', 'object');
  need(e, '', 'cloud', 'object');
  if (e.category_uid !== 2) problems.push('category_uid: must be 2 (Findings)');
  if (e.class_uid !== 2004) problems.push('class_uid: must be 2004 (Detection Finding)');
  if (![1, 2, 3, 99].includes(e.activity_id as number)) problems.push('activity_id: not in the enum');
  if (e.type_uid !== (e.class_uid as number) * 100 + (e.activity_id as number))
    problems.push('type_uid: must be class_uid * 100 + activity_id');
  if (![0, 1, 2, 3, 4, 5, 6, 99].includes(e.severity_id as number))
    problems.push('severity_id: not in the enum');
  if (e.status_id !== undefined && ![0, 1, 2, 3, 4, 5, 6, 99].includes(e.status_id as number))
    problems.push('status_id: not in the enum');
  if (typeof e.time === 'number' && (e.time < 1e12 || e.time > 1e13))
    problems.push('time: not epoch milliseconds');
  if (e.is_alert !== undefined && typeof e.is_alert !== 'boolean') problems.push('is_alert: boolean');
  if (e.unmapped !== undefined && !isObj(e.unmapped)) problems.push('unmapped: object');

  const metadata = e.metadata;
  if (isObj(metadata)) {
    only(metadata, 'metadata.', 'metadata');
    need(metadata, 'metadata.', 'version', 'string');
    need(metadata, 'metadata.', 'product', 'object');
    if (isObj(metadata.product)) {
      only(metadata.product, 'metadata.product.', 'product');
      oneOf(metadata.product, 'metadata.product', ['name', 'uid']);
    }
    if (
      metadata.profiles !== undefined &&
      !(Array.isArray(metadata.profiles) && metadata.profiles.every((p) => typeof p === 'string'))
    )
      problems.push('metadata.profiles: string array');
  }
  const info = e.finding_info;
  if (isObj(info)) {
    only(info, 'finding_info.', 'finding_info');
    need(info, 'finding_info.', 'uid', 'string');
    if (info.created_time !== undefined && !Number.isInteger(info.created_time))
      problems.push('finding_info.created_time: timestamp');
    if (
      info.types !== undefined &&
      !(Array.isArray(info.types) && info.types.every((t) => typeof t === 'string'))
    )
      problems.push('finding_info.types: string array');
    if (info.analytic !== undefined) {
      if (!isObj(info.analytic)) problems.push('finding_info.analytic: object');
      else {
        only(info.analytic, 'finding_info.analytic.', 'analytic');
        need(info.analytic, 'finding_info.analytic.', 'type_id', 'integer');
        oneOf(info.analytic, 'finding_info.analytic', ['name', 'uid']);
      }
    }
  }
  const cloud = e.cloud;
  if (isObj(cloud)) {
    only(cloud, 'cloud.', 'cloud');
    need(cloud, 'cloud.', 'provider', 'string');
    if (cloud.account !== undefined) {
      if (!isObj(cloud.account)) problems.push('cloud.account: object');
      else {
        only(cloud.account, 'cloud.account.', 'account');
        oneOf(cloud.account, 'cloud.account', ['name', 'uid']);
      }
    }
  }
  if (e.resources !== undefined) {
    if (!Array.isArray(e.resources)) problems.push('resources: array');
    else
      e.resources.forEach((r, i) => {
        if (!isObj(r)) {
          problems.push(`resources[${i}]: object`);
          return;
        }
        only(r, `resources[${i}].`, 'resource');
        if (r.owner !== undefined) {
          if (!isObj(r.owner)) problems.push(`resources[${i}].owner: object`);
          else {
            only(r.owner, `resources[${i}].owner.`, 'user');
            oneOf(r.owner, `resources[${i}].owner`, ['account', 'name', 'uid']);
          }
        }
      });
  }
  return problems;
}

describe('OCSF Detection Finding', () => {
  it('the structural check catches what the schema forbids (it can fail)', async () => {
    const [event] = ocsfEvents(await scanFile(EXAMPLE), RENDER) as unknown as Json[];
    const broken: Json = JSON.parse(JSON.stringify(event));
    delete (broken.finding_info as Json).uid;
    broken.type_uid = 200400;
    broken.compliance = {};
    (broken.metadata as Json).product = {};
    expect(ocsfProblems(broken)).toEqual([
      'compliance: not an attribute of event',
      'type_uid: must be class_uid * 100 + activity_id',
      'metadata.product: needs one of name, uid',
      'finding_info.uid: required string, got undefined',
    ]);
  });

  it('turns each finding of the example report into a valid event', async () => {
    const result = await scanFile(EXAMPLE);
    const text = renderOcsf(result, RENDER);
    const events = JSON.parse(text) as Json[];
    expect(events).toHaveLength(result.findings.length);
    for (const e of events) expect(ocsfProblems(e)).toEqual([]);

    const alice = events.find(
      (e) => (e.finding_info as Json).uid === '111122223333/alice/access-key-age/key-2026-07-20T14:02:11Z',
    )!;
    expect(alice).toMatchObject({
      activity_id: 1,
      category_uid: 2,
      class_uid: 2004,
      type_uid: 200401,
      severity_id: 5,
      severity: 'Critical',
      status_id: 1,
      time: Date.parse('2026-11-23T12:00:00Z'),
      message: 'Access key 1 of alice is 125 days old (critical at 90); rotate it.',
      is_alert: true,
      metadata: {
        version: '1.8.0',
        product: { name: 'credwatch', version: '0.1.0' },
        processed_time: RENDER.now.getTime(),
      },
      finding_info: {
        title: 'Access key age',
        analytic: { uid: 'access-key-age', type_id: 1 },
        types: ['CIS AWS Foundations Benchmark v3.0.0/1.14', 'AWS Security Hub/IAM.3'],
      },
      resources: [
        {
          uid: 'arn:aws:iam::111122223333:user/alice',
          name: 'alice',
          type: 'AwsIamUser',
          data: { days: 125, threshold_days: 90 },
        },
      ],
      cloud: { provider: 'AWS', account: { uid: '111122223333' } },
      unmapped: {
        compliance: {
          cis_aws_foundations_benchmark: { version: 'v3.0.0', controls: ['1.14'] },
          aws_security_hub: { controls: ['IAM.3'] },
        },
      },
    });
    const severities = new Map(
      events.map((e) => [(e.finding_info as Json).uid, [e.severity_id, e.is_alert]]),
    );
    expect(severities.get('111122223333/bob/access-key-age/key-2026-08-30T09:15:27Z')).toEqual([3, true]);
    expect(severities.get('111122223333/erin/multiple-active-keys/access-keys')).toEqual([1, false]);
    const root = events.find(
      (e) => (e.finding_info as Json).uid === '111122223333/<root_account>/root-without-mfa/mfa',
    )!;
    expect(root.resources).toEqual([
      expect.objectContaining({ type: 'AwsAccount', uid: 'arn:aws:iam::111122223333:root' }),
    ]);
  });

  it('marks an exempted finding Suppressed and not an alert, and names the owner', () => {
    const slack = fullFinding({ exemption: { until: '2026-12-31', reason: 'vendor pipeline' } });
    const mail = fullFinding({ id: 'x/bob/access-key-age/k', user: 'bob', owner: 'secops@example.com' });
    const [a, b] = ocsfEvents(resultOf([slack, mail]), RENDER) as unknown as Json[];
    expect(ocsfProblems(a!)).toEqual([]);
    expect(ocsfProblems(b!)).toEqual([]);
    expect(a).toMatchObject({
      status_id: 3,
      status: 'Suppressed',
      is_alert: false,
      unmapped: { exemption: { until: '2026-12-31' } },
    });
    expect((a!.resources as Json[])[0]!.owner).toEqual({ uid: 'U024BE7LH' });
    expect((b!.resources as Json[])[0]!.owner).toEqual({
      name: 'secops@example.com',
      email_addr: 'secops@example.com',
    });
    expect(b).toMatchObject({ status_id: 1, is_alert: true });
  });

  it('keeps hostile user names as data', async () => {
    const name = '"><img src=x onerror=alert(1)>';
    const events = JSON.parse(renderOcsf(await scanCsv(hostileReport([name])), RENDER)) as Json[];
    expect(events.length).toBeGreaterThan(0);
    for (const e of events) {
      expect(ocsfProblems(e)).toEqual([]);
      expect((e.resources as Json[])[0]!.name).toBe(name);
    }
  });

  it.each(fixtureReports().map((p) => [p.split('/').pop()!, p]))(
    'renders the real report %s as valid events',
    async (_n, path) => {
      const result = await scanFile(path);
      const events = JSON.parse(renderOcsf(result, RENDER)) as Json[];
      expect(events.map((e) => (e.finding_info as Json).uid)).toEqual(result.findings.map((f) => f.id));
      for (const e of events) expect(ocsfProblems(e)).toEqual([]);
    },
  );
});
