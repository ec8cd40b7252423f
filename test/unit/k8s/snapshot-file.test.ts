// Reading cluster snapshots: the shapes kubectl and the API print, and every way a file can be wrong,
// each refused with the document, item, field and line it is about.
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CodedError } from '../../../src/domain/errors.js';
import { MAX_SNAPSHOT_BYTES, parseSnapshot, readSnapshotFile } from '../../../src/k8s/snapshot-file.js';
import { rejectedCoded, thrownCoded } from '../../support/coded.js';

const parse = (text: string) => parseSnapshot(text, 'snap.yaml', 'command_invalid');
const refused = (text: string): CodedError => thrownCoded(() => parse(text));
const pod = (name: string, extra = '') =>
  `{ apiVersion: v1, kind: Pod, metadata: { name: ${name}, namespace: prod${extra} }, spec: { containers: [{ name: a }] } }`;

describe('snapshot shapes', () => {
  it('reads a kind: List as kubectl prints it, keeping every field', () => {
    const snap = parse(
      `apiVersion: v1\nkind: List\nmetadata: { resourceVersion: "" }\nitems:\n  - ${pod('a', ', uid: u-1, resourceVersion: "77"')}\n  - { apiVersion: v1, kind: Namespace, metadata: { name: prod, namespace: ignored } }\n`,
    );
    expect(snap.objects.map((o) => [o.kind, o.metadata.name, o.metadata.namespace])).toEqual([
      ['Pod', 'a', 'prod'],
      ['Namespace', 'prod', undefined],
    ]);
    expect(snap.objects[0]).toMatchObject({
      metadata: { uid: 'u-1', resourceVersion: '77' },
      spec: { containers: [{ name: 'a' }] },
    });
  });

  it('reads a typed list from the API, whose items leave out apiVersion and kind', () => {
    const snap = parse(
      'apiVersion: v1\nkind: PodList\nitems:\n  - { metadata: { name: a, namespace: prod } }\n',
    );
    expect(snap.objects).toEqual([
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a', namespace: 'prod' } },
    ]);
  });

  it('reads several documents, lists and objects mixed, skipping empty ones', () => {
    const snap = parse(`---\n${pod('a')}\n---\n---\napiVersion: v1\nkind: List\nitems: [${pod('b')}]\n---\n`);
    expect(snap.objects.map((o) => o.metadata.name)).toEqual(['a', 'b']);
  });

  it('reads kubectl -o json output the same, and a JSON file with problems gets their lines too', () => {
    const list = {
      apiVersion: 'v1',
      kind: 'List',
      items: [JSON.parse(JSON.stringify(parse(pod('a')).objects[0]))],
    };
    expect(parse(JSON.stringify(list, null, 2)).objects).toEqual(parse(pod('a')).objects);
    list.items.push({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'b' } });
    const err = refused(JSON.stringify(list, null, 2));
    expect(err.issues.map((i) => `${i.path}: ${i.message}`)).toEqual([
      expect.stringMatching(
        /^document 1, items\[1\]: metadata\.namespace: required: a Pod lives in a namespace \(line \d+\)$/,
      ),
    ]);
  });

  it("drops Secrets' data and stringData, keeps their metadata and type", () => {
    const snap = parse(
      'apiVersion: v1\nkind: Secret\ntype: Opaque\nmetadata: { name: db, namespace: prod }\ndata: { password: aHVudGVyMg== }\nstringData: { x: y }\n',
    );
    expect(snap.objects).toEqual([
      { apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name: 'db', namespace: 'prod' } },
    ]);
  });

  it('takes the other built-in kinds the actions read, and the policy and certificate CRDs', () => {
    const kinds = [
      ['v1', 'Service'],
      ['v1', 'ConfigMap'],
      ['v1', 'Event'],
      ['batch/v1', 'Job'],
      ['batch/v1', 'CronJob'],
      ['apps/v1', 'DaemonSet'],
      ['cilium.io/v2', 'CiliumNetworkPolicy'],
      ['cert-manager.io/v1', 'Certificate'],
    ];
    const items = kinds.map(
      ([v, k]) => `  - { apiVersion: ${v}, kind: ${k}, metadata: { name: x, namespace: prod } }`,
    );
    items.push(
      '  - { apiVersion: policy.networking.k8s.io/v1alpha1, kind: AdminNetworkPolicy, metadata: { name: x } }',
    );
    const snap = parse(`apiVersion: v1\nkind: List\nitems:\n${items.join('\n')}\n`);
    expect(snap.objects.map((o) => o.kind)).toEqual([...kinds.map(([, k]) => k), 'AdminNetworkPolicy']);
  });

  it('keeps custom kinds it knows in their storage version (Istio v1beta1 → v1)', () => {
    const snap = parse(
      'apiVersion: security.istio.io/v1beta1\nkind: AuthorizationPolicy\nmetadata: { name: p, namespace: prod }\n',
    );
    expect(snap.objects[0]?.apiVersion).toBe('security.istio.io/v1');
  });
});

describe('snapshot problems', () => {
  it('not YAML: file, line and column', () => {
    const err = refused('apiVersion: v1\nkind: [Pod\n');
    expect(err.code).toBe('command_invalid');
    expect(err.message).toMatch(/^snap\.yaml:\d+:\d+: not valid YAML \(document 1\): /);
  });

  it('a document without kind, an item without a name, with a bad label: document, item, field and line', () => {
    const err = refused(
      [
        'apiVersion: v1',
        'kind: List',
        'items:',
        '  - apiVersion: v1',
        '    metadata: { name: a, namespace: prod }',
        '  - apiVersion: v1',
        '    kind: Pod',
        '    metadata: { namespace: prod, labels: { app: "has space" } }',
        '---',
        'metadata: { name: b }',
      ].join('\n'),
    );
    expect(err.message).toBe('snap.yaml: not a usable cluster snapshot (4 problems)');
    expect(err.describe().split('\n').slice(1)).toEqual([
      '  - document 1, items[0]: kind: required: every object names its kind (Pod, NetworkPolicy, …) (line 4)',
      '  - document 1, items[1]: metadata.name: expected a lower-case DNS name for the Pod (line 8)',
      '  - document 1, items[1]: metadata.labels.app: expected a valid label (line 8) (got "has space")',
      '  - document 2: kind: required: every object names its kind (Pod, NetworkPolicy, …) (line 10)',
    ]);
  });

  it('a kind it does not hold, whatever its name (constructor, __proto__, toString): named, never looked up', () => {
    for (const kind of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      const err = refused(
        `apiVersion: v1\nkind: List\nitems:\n  - { apiVersion: v1, kind: ${kind}, metadata: { name: constructor } }\n`,
      );
      expect(err.describe()).toContain(
        `document 1, items[0]: kind: a snapshot does not hold v1 ${kind}; it holds: Namespace, Pod,`,
      );
    }
    const wrongVersion = refused(
      'apiVersion: apps/v1beta9\nkind: Deployment\nmetadata: { name: x, namespace: prod }\n',
    );
    expect(wrongVersion.describe()).toContain('a snapshot does not hold apps/v1beta9 Deployment');
  });

  it('a label key named __proto__ is refused like any invalid key, and pollutes nothing', () => {
    const err = refused(`${pod('a', ', labels: { __proto__: x }')}\n`);
    expect(err.describe()).toContain('document 1: metadata.labels.__proto__: expected a valid label');
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it('a namespaced object without a namespace; the same object twice; a list inside a list; a scalar document', () => {
    const err = refused(
      [
        '{ apiVersion: v1, kind: Pod, metadata: { name: a } }',
        '---',
        pod('b'),
        '---',
        pod('b'),
        '---',
        'apiVersion: v1\nkind: List\nitems: [{ apiVersion: v1, kind: List, items: [] }]',
        '---',
        'root:x:0:0:root:/root:/bin/bash',
      ].join('\n'),
    );
    expect(err.issues.map((i) => `${i.path}: ${i.message.replace(/ \(line \d+\)$/, '')}`)).toEqual([
      'document 1: metadata.namespace: required: a Pod lives in a namespace',
      'document 3: metadata.name: Pod prod/b is also document 2',
      'document 4, items[0]: kind: a list inside a list: put each list in its own document',
      'document 5: expected a Kubernetes object (a mapping with apiVersion, kind and metadata)',
    ]);
  });

  it('an alias bomb is refused, not expanded', () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 0; i < 12; i++)
      lines.push(
        `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}]`,
      );
    const err = refused(lines.join('\n'));
    expect(err.message).toMatch(/^snap\.yaml: document 1 cannot be read: /);
  });

  it('an empty file is a snapshot of nothing, said so', () => {
    expect(refused('# nothing\n').message).toBe(
      'snap.yaml: the snapshot holds no objects (expected `kubectl get … -o yaml` output)',
    );
  });
});

describe('snapshot files', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'snapshot-file-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a file by a path with .. in it', async () => {
    mkdirSync(join(dir, 'sub'), { recursive: true });
    writeFileSync(join(dir, 'snap.yaml'), `${pod('a')}\n`);
    const path = join(dir, 'sub', '..', 'snap.yaml');
    expect((await readSnapshotFile(path, 'command_invalid')).objects).toHaveLength(1);
  });

  it('a missing file, a directory, and a file over the size limit (checked before reading it)', async () => {
    const missing = await rejectedCoded(
      readSnapshotFile(join(dir, 'nope', '..', 'gone.yaml'), 'command_invalid'),
    );
    expect(missing.message).toBe(
      `snapshot ${join(dir, 'nope', '..', 'gone.yaml')}: no such file (${join(dir, 'gone.yaml')})`,
    );
    const directory = await rejectedCoded(readSnapshotFile(dir, 'command_invalid'));
    expect(directory.message).toBe(`snapshot ${dir}: is a directory, not a file`);
    const big = join(dir, 'big.yaml');
    writeFileSync(big, '');
    truncateSync(big, 20 * 1000 * 1000);
    const large = await rejectedCoded(readSnapshotFile(big, 'command_invalid'));
    expect(large.code).toBe('command_invalid');
    expect(large.message).toBe(
      `snapshot ${big}: is 19.1 MiB; a snapshot may be at most ${MAX_SNAPSHOT_BYTES / 1024 / 1024} MiB (snapshot fewer namespaces or kinds)`,
    );
  });
});
