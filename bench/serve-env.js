// What the benchmarks' clients and the servers they start agree on: the secrets, the channel, serve's env.
export const SIGNING_SECRET = 'bench-signing-secret';
export const ALERT_TOKEN = 'bench-alert-token';
export const CHANNEL = 'C0BENCH';

/** The environment `serve` gets in the benchmarks: stub Slack, the given Redis (or none), quiet. */
export function serveEnv(slackApiUrl, redisUrl) {
  return {
    SLACK_BOT_TOKEN: 'xoxb-bench',
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    ALERT_WEBHOOK_TOKEN: ALERT_TOKEN,
    SLACK_API_URL: slackApiUrl,
    LOG_LEVEL: 'silent',
    ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
  };
}

/** Its config file: one incident channel, one responder, one approver. */
export const SERVE_CONFIG = `slack:\n  incidentChannel: ${CHANNEL}\n  responders: [U0BENCH]\n  approvers: [U0APPROVE]\n`;
