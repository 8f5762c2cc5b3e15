// The two demo users. Their `videos` claims name the Stream emulator's seeded demo videos
// (emulator/src/seed.ts, emulator/README.md), so that each of them meets a download
// that works and one they are not entitled to.
const VIDEOS = {
  keynote: "c0ffee00000000000000000000000001",
  tour: "c0ffee00000000000000000000000002",
  trailer: "c0ffee00000000000000000000000003",
  townHall: "c0ffee00000000000000000000000004",
  corrupted: "c0ffee00000000000000000000000005",
} as const;

export interface DemoUser {
  id: string;
  name: string;
  videos: string[];
  about: string;
}

export const DEMO_USERS: readonly DemoUser[] = [
  {
    id: "alice",
    name: "Alice",
    videos: [VIDEOS.keynote, VIDEOS.tour, VIDEOS.townHall],
    about:
      "May download Launch keynote (ready at once), Product tour (on a fresh emulator Stream first prepares the " +
      "file: progress bar) and Town hall (not ready while it processes, its first 20 s). Not entitled to Public " +
      "trailer or Corrupted upload.",
  },
  {
    id: "bob",
    name: "Bob",
    videos: [VIDEOS.keynote, VIDEOS.trailer, VIDEOS.corrupted],
    about:
      "May download Launch keynote. Public trailer is refused (it does not require signed URLs, so its file " +
      "would be public) and so is Corrupted upload (its processing failed). Not entitled to Product tour or Town hall.",
  },
];

export function demoUser(id: string): DemoUser | undefined {
  return DEMO_USERS.find((user) => user.id === id);
}
