/**
 * Column conventions shared by every table: JSON columns are TEXT in both dialects (portable,
 * opaque to SQL); booleans are 0/1 integers; timestamps are ISO-8601 UTC strings.
 */
export type Json = string;
export type Bool = number;
