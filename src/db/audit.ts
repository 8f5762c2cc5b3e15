import type { Db } from "./types";

export interface AuditEvent {
  at: number;
  user: string | null;
  link: string | null;
  video: string;
  type: string;
  mode: string;
  country: string | null;
  outcome: string;
}

export function auditStatement(db: Db, e: AuditEvent): D1PreparedStatement {
  return db
    .prepare(
      "INSERT INTO audit_events (at, user_id, link_id, video_id, type, mode, country, outcome) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )
    .bind(e.at, e.user, e.link, e.video, e.type, e.mode, e.country, e.outcome);
}
