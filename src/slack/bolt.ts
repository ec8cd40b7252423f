// Bolt's App and HTTP receiver, from their own files. The package entry (`@slack/bolt`, dist/index.js)
// also loads the Express and AWS Lambda receivers, which this bot never uses: Express alone is about
// 70 ms of the server's start-up. The listeners' types still come from '@slack/bolt' (types only,
// erased at build). Bolt's files are CommonJS: an ES import's default is their `module.exports`.
import AppFile from '@slack/bolt/dist/App.js';
import HTTPReceiverFile from '@slack/bolt/dist/receivers/HTTPReceiver.js';

export const App = AppFile.default;
export type App = InstanceType<typeof App>;
export const HTTPReceiver = HTTPReceiverFile.default;
