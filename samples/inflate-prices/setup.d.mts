/** Types of setup.mjs, for the TypeScript tests that import it. */
export declare const DEFAULT_SHOP: string;
export declare function setupShop(options?: { file?: string; rows?: number }): { file: string; rows: number; averageCents: number };
export declare function checkShop(file: string, percent: number): { averageCents: number; sumCents: number; wrong: number };
