/** Types of generate.mjs, for the TypeScript tests that import it. */
export declare const DATA_DIR: string;
export interface Customer {
  id: number;
  name: string;
  email: string;
  city: string;
  note: string;
}
export declare function customer(id: number): Customer;
export declare function generateCustomers(options?: { dir?: string; csvRows?: number; jsonlRows?: number }): { csv: string; jsonl: string; total: number };
