/**
 * Report formats: pure renderers of a ScanResult to a string (no I/O, no clock: `options.now` is
 * passed in). The CLI writes the string where `--output` says (bin/scan.ts); what each format holds
 * is in docs/formats.md.
 */
import type { ScanResult } from '../scan';
import type { RenderOptions } from './common';
import { csvChunks, renderCsv } from './csv';
import { htmlChunks, renderHtml } from './html';
import { ocsfChunks, renderOcsf } from './ocsf';
import { renderSarif, sarifChunks } from './sarif';

export type { RenderOptions } from './common';

export type ReportFormat = 'csv' | 'ocsf' | 'sarif' | 'html';

export const REPORT_FORMATS: readonly ReportFormat[] = ['csv', 'ocsf', 'sarif', 'html'];

/** The usual file extension of each format, for a default output file name. */
export const FORMAT_EXTENSIONS: Record<ReportFormat, string> = {
  csv: 'csv',
  ocsf: 'ocsf.json',
  sarif: 'sarif',
  html: 'html',
};

export function isReportFormat(value: string): value is ReportFormat {
  return (REPORT_FORMATS as readonly string[]).includes(value);
}

/**
 * {@link renderFormat}'s text in pieces, in order (joined, they are that text): the CLI writes a
 * large report's file piece by piece instead of holding it whole.
 */
export function renderFormatChunks(
  format: ReportFormat,
  result: ScanResult,
  options: RenderOptions,
): Iterable<string> {
  switch (format) {
    case 'csv':
      return csvChunks(result);
    case 'ocsf':
      return ocsfChunks(result, options);
    case 'sarif':
      return sarifChunks(result, options);
    case 'html':
      return htmlChunks(result, options);
  }
}

export function renderFormat(format: ReportFormat, result: ScanResult, options: RenderOptions): string {
  switch (format) {
    case 'csv':
      return renderCsv(result);
    case 'ocsf':
      return renderOcsf(result, options);
    case 'sarif':
      return renderSarif(result, options);
    case 'html':
      return renderHtml(result, options);
  }
}
