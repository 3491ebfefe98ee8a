import * as core from '@actions/core';

/** A table for a job summary: a header row and data rows of plain text (escaped when written). */
export interface SummaryTable {
  header: string[];
  rows: string[][];
}

/** A job summary section: a heading, paragraphs of Markdown, optional tables and a collapsible details block. */
export interface SummarySection {
  heading: string;
  paragraphs?: string[];
  tables?: SummaryTable[];
  details?: { label: string; body: string };
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Appends a section to the job summary (`GITHUB_STEP_SUMMARY`). Outside a runner (no summary file) it does nothing,
 * so the actions also run from a terminal.
 */
export async function writeSummary(section: SummarySection): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return;
  const summary = core.summary.addHeading(escapeHtml(section.heading), 3);
  for (const paragraph of section.paragraphs ?? []) summary.addRaw(paragraph, true).addEOL();
  for (const table of section.tables ?? []) {
    summary.addTable([
      table.header.map((cell) => ({ data: escapeHtml(cell), header: true })),
      ...table.rows.map((row) => row.map((cell) => escapeHtml(cell))),
    ]);
  }
  if (section.details)
    summary.addDetails(escapeHtml(section.details.label), `\n\n\`\`\`\n${section.details.body}\n\`\`\`\n\n`);
  await summary.write();
}
