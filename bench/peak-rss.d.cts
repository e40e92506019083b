/** This process's own peak RSS in KiB (bench/peak-rss.cjs). */
export declare function peakRssKiB(): number;
/** The module's own path, for plain `node` scripts that load it. */
export declare const PEAK_RSS_MODULE: string;
