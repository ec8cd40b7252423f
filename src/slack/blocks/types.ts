// Block Kit types come from @slack/types (installed with @slack/bolt and @slack/web-api). Type-only
// imports: the renderers load nothing from Slack at run time.
import type {
  ActionsBlock,
  Button,
  Checkboxes,
  ConfirmationDialog,
  ContextBlock,
  HeaderBlock,
  KnownBlock,
  MrkdwnElement,
  PlainTextElement,
  RichTextBlock,
  RichTextElement,
  SectionBlock,
} from '@slack/types';

export type {
  ActionsBlock,
  Button,
  Checkboxes,
  ConfirmationDialog,
  ContextBlock,
  HeaderBlock,
  MrkdwnElement,
  PlainTextElement,
  RichTextBlock,
  RichTextElement,
  SectionBlock,
};

export type Block = KnownBlock;

/** What every message renderer returns: `text` is the notification / accessibility fallback. */
export interface SlackMessage {
  text: string;
  blocks: Block[];
}
