import {
  escapeCode,
  escapeEntities,
  escapeInline,
  escapeMrkdwn,
  inlineCode,
  truncate,
} from '../../../../src/slack/blocks/escape.js';

const ZWSP = '\u200B';
const ZWJ = '\u200D';

/** A lone surrogate anywhere in the string. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

describe('escapeMrkdwn', () => {
  it('turns &, < and > into entities, so no control sequence survives', () => {
    expect(escapeMrkdwn('a & b < c > d')).toBe('a &amp; b &lt; c &gt; d');
    expect(escapeMrkdwn('<!channel>')).toBe('&lt;!channel&gt;');
    expect(escapeMrkdwn('<@U123ABC>')).toBe('&lt;@U123ABC&gt;');
    expect(escapeMrkdwn('<https://evil.example|click me>')).toBe('&lt;https://evil.example|click me&gt;');
    expect(escapeMrkdwn('<!subteam^S123>')).not.toContain('<');
  });

  it('escapes an existing entity again (it is text, not markup)', () => {
    expect(escapeMrkdwn('&lt;!channel&gt;')).toBe('&amp;lt;!channel&amp;gt;');
  });

  it('guards formatting characters with zero-width spaces and replaces backticks', () => {
    expect(escapeMrkdwn('*bold*')).toBe(`${ZWSP}*${ZWSP}bold${ZWSP}*${ZWSP}`);
    expect(escapeMrkdwn('_it_ ~st~')).toBe(
      `${ZWSP}_${ZWSP}it${ZWSP}_${ZWSP} ${ZWSP}~${ZWSP}st${ZWSP}~${ZWSP}`,
    );
    expect(escapeMrkdwn('`code`')).toBe('\u02CBcode\u02CB');
    expect(escapeMrkdwn('```block```')).not.toContain('`');
  });

  it('never leaves a formatting character next to a visible character', () => {
    const out = escapeMrkdwn('pay*ments* _x_ ~y~ a*b');
    expect(out.replace(new RegExp(`${ZWSP}[*_~]${ZWSP}`, 'g'), '')).not.toMatch(/[*_~]/);
  });

  it('defuses @channel, @here and @everyone written as plain text (any case)', () => {
    expect(escapeMrkdwn('@channel @here @everyone @HERE')).toBe(
      `@${ZWJ}channel @${ZWJ}here @${ZWJ}everyone @${ZWJ}HERE`,
    );
    expect(escapeMrkdwn('@channels-team')).toBe('@channels-team');
    expect(escapeMrkdwn('@alice')).toBe('@alice');
  });

  it('keeps newlines; escapeInline folds them (and other control characters) into spaces', () => {
    expect(escapeMrkdwn('a\nb')).toBe('a\nb');
    expect(escapeInline('prod\n*Status:* resolved\t\u0000x')).toBe(
      `prod ${ZWSP}*${ZWSP}Status:${ZWSP}*${ZWSP} resolved x`,
    );
    expect(escapeInline('a\u2028b')).toBe('a b');
  });

  it('leaves ordinary text alone', () => {
    expect(escapeMrkdwn('payments-api.prod → exfil.example.net:443/https (ß, 東京, 🚨)')).toBe(
      'payments-api.prod → exfil.example.net:443/https (ß, 東京, 🚨)',
    );
  });
});

describe('escapeCode and inlineCode', () => {
  it('escapeCode keeps YAML exact but escapes entities and cannot close the block', () => {
    const yaml = 'matchLabels:\n  app: "*"\n  x_y: <z> & ```';
    const out = escapeCode(yaml);
    expect(out).toContain('app: "*"');
    expect(out).toContain('x_y: &lt;z&gt; &amp;');
    expect(out).not.toContain('```');
    expect(escapeCode('@here')).toBe(`@${ZWJ}here`);
  });

  it('inlineCode wraps our identifiers, entities escaped and mentions defused', () => {
    expect(inlineCode('/egress ack <id>')).toBe('`/egress ack &lt;id&gt;`');
    expect(inlineCode('/egress page @here')).toBe(`\`/egress page @${ZWJ}here\``);
  });

  it('escapeEntities only touches &, <, >', () => {
    expect(escapeEntities('*_~` @here <&>')).toBe('*_~` @here &lt;&amp;&gt;');
  });
});

describe('truncate', () => {
  it('returns text within the limit unchanged', () => {
    expect(truncate('hello', 5)).toBe('hello');
    expect(truncate('', 5)).toBe('');
  });

  it('cuts visibly and says how much is left out', () => {
    const text = 'x'.repeat(10_000);
    const out = truncate(text, 3000);
    expect(out.length).toBeLessThanOrEqual(3000);
    const m = /… \(truncated, (\d+) more chars\)$/.exec(out);
    expect(m).not.toBeNull();
    const kept = out.length - (m?.[0].length ?? 0);
    expect(kept + Number(m?.[1])).toBe(10_000);
    expect(kept).toBeGreaterThan(2950);
  });

  it('uses a bare … in short fields', () => {
    const out = truncate('Contain the source workload and everything around it', 24);
    expect(out).toMatch(/…$/);
    expect(out).not.toContain('truncated');
    expect(out.length).toBeLessThanOrEqual(24);
  });

  it('never splits a surrogate pair', () => {
    const text = '🚨'.repeat(200);
    for (let max = 1; max <= 120; max++) {
      const out = truncate(text, max);
      expect(out.length).toBeLessThanOrEqual(max);
      expect(out).not.toMatch(LONE_SURROGATE);
    }
  });

  it('never splits an entity, an escaped formatting character, a mention or a date token', () => {
    const text = `${escapeMrkdwn('a&b<c>*d*_@here '.repeat(40))} <@U123> <!date^1764079392^{time}|2025-11-25T14:03:12Z>`;
    for (let max = 10; max <= text.length + 5; max += 1) {
      const out = truncate(text, max);
      expect(out.length).toBeLessThanOrEqual(max);
      const head = out.replace(/…( \(truncated, \d+ more chars?\))?$/, '');
      expect(head).not.toMatch(/&(?!amp;|lt;|gt;)/); // every & starts a whole entity
      expect(head).not.toMatch(/&(amp|lt|gt)?$/);
      expect(head.replace(new RegExp(`${ZWSP}[*_~]${ZWSP}`, 'g'), '')).not.toMatch(/[*_~]/);
      expect(head).not.toMatch(/@$/);
      expect(head).not.toMatch(/<[^>]*$/); // no half token
    }
  });

  it('closes a code block it cuts through', () => {
    const text = `Preview:\n\`\`\`\n${'line of yaml\n'.repeat(500)}\`\`\``;
    const out = truncate(text, 3000);
    expect(out.length).toBeLessThanOrEqual(3000);
    expect((out.match(/```/g) ?? []).length).toBe(2);
    expect(out).toMatch(/\n```… \(truncated, \d+ more chars\)$/);
  });
});
