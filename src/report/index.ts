/** Reports rendered from an analysis: HTML (self-contained, with charts), markdown, and the written summary. */

export { type Chart, renderSvg } from './charts.ts';
export { type HtmlOptions, renderHtml } from './html.ts';
export { renderMarkdown } from './markdown.ts';
export { type Summary, summarize } from './summary.ts';
