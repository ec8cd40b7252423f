import { CodedError } from '../../../src/domain/errors.js';
import { Incident } from '../../../src/domain/incident.js';
import { ValidatedDocuments } from '../../../src/store/validated-documents.js';
import { anIncident } from '../../builders/incident.js';

// The read path's memory of validated incident documents (store/validated-documents.ts): the same
// bytes again skip validation, and nothing else does.

describe('ValidatedDocuments', () => {
  const canonical = () => JSON.stringify(Incident.parse(anIncident()));

  it('gives what validation gives, a fresh copy each time the same bytes come back', () => {
    const docs = new ValidatedDocuments();
    const data = canonical();
    const first = docs.decode(data, 'incident:x');
    const again = docs.decode(data, 'incident:x');
    expect(again).toEqual(first);
    expect(again).toEqual(Incident.parse(JSON.parse(data)));
    again.status = 'closed';
    expect(docs.decode(data, 'incident:x').status).toBe('open');
  });

  it('still refuses damaged bytes after valid ones were seen', () => {
    const docs = new ValidatedDocuments();
    docs.decode(canonical(), 'incident:x');
    const damaged = canonical().replace('"status":"open"', '"status":"opened"');
    expect(() => docs.decode(damaged, 'incident:x')).toThrow(CodedError);
    expect(() => docs.decode(damaged, 'incident:x')).toThrow(/incident:x/);
  });

  it('bytes that validation changes (a default filled in) give the validated document every time', () => {
    const docs = new ValidatedDocuments();
    // slack.steps has a default: a thread written without it (as an older writer did) reads with {}.
    const older = { ...JSON.parse(canonical()), slack: { channel: 'C1', ts: '1.2' } };
    const data = JSON.stringify(older);
    for (let n = 0; n < 3; n++)
      expect(docs.decode(data, 'incident:x').slack).toEqual({ channel: 'C1', ts: '1.2', steps: {} });
  });
});
