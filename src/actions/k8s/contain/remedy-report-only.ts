// report-only: change no object besides the deny policy (k8s.deny-egress's plan still names the
// allow-policies that let the pods out).
import { netpols, type RemedyStrategy } from './remedy-strategy.js';

export const reportOnly: RemedyStrategy = {
  async plan(scene) {
    return {
      plan: { kind: 'report-only' },
      lines: ['# report-only: no other object changes'],
      text: '',
      wouldBe: { pods: scene.pods, policies: netpols(scene) },
    };
  },
  async drift() {
    return [];
  },
  async apply() {},
  asApplied: (pods, policies) => ({ pods, policies }),
  async revert() {
    return [];
  },
  done: () => '',
};
