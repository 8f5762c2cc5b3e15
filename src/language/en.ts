// English: the catalogue's reference. Every other language has exactly these keys (catalogue.ts)
// and the same {placeholders}; test/pages/language.test.ts holds them to it.
export const en = {
  // The landing page.
  sharedDownload: "Shared download",
  sharedVideoBy: "{who} shared this video with you to download.",
  sharedVideo: "Someone shared this video with you to download.",
  sharedAudioBy: "{who} shared this audio file with you to download.",
  sharedAudio: "Someone shared this audio file with you to download.",
  titleLabel: "Title",
  fileLabel: "File",
  videoFile: "Video (MP4)",
  audioFile: "Audio (M4A)",
  lengthLabel: "Length",
  sizeLabel: "Size",
  expiresLabel: "Link expires",
  expiresWhen: "{date} ({left})",
  downloadsLeftLabel: "Downloads left",
  passwordLabel: "Password",
  download: "Download",
  keepPage: "The file downloads in this browser. Keep this page to download again while downloads are left.",
  noneLeft: "No downloads left",
  linkStopped: "This link can no longer be used",
  // Why the last press of Download gave nothing.
  wrongPassword: "Wrong password.",
  passwordMissing: "Enter the password to download.",
  tooManyPasswords: "Too many wrong passwords have been tried. Try again {when}.",
  passwordUnchecked: "The password could not be checked just now. Try again {when}.",
  // The page shown while the file is being made.
  preparingTitle: "Preparing your download",
  preparingLede: "The file is being prepared. This page continues by itself when it is ready.",
  preparingProgress: "Preparation progress",
  checkAgain: "Check again",
  // Dead ends: what happened (a heading and why), then what to do next.
  exhaustedTitle: "This link has been used up",
  exhaustedWhy: "Every download it allowed has been used ({count} of {count}).",
  expiredTitle: "This link has expired",
  expiredWhy: "It could be used until {date}.",
  askForNewLink: "If you still need the file, ask the person who shared it with you for a new link.",
  revokedTitle: "This link has been turned off",
  revokedWhy: "It was turned off on {date} and will not work again.",
  revokedNext: "If you think you should still have the file, ask the person who shared it with you.",
  suspendedTitle: "This link is suspended",
  suspendedWhy: "It was suspended because it was used from more places than the person who shared it allowed.",
  suspendedNext: "Let them know: they can check where it was used and turn it back on.",
  pausedTitle: "This link is on hold",
  pausedAccessWhy: "The person who shared it no longer has access to this file.",
  pausedAccessNext: "It works again as soon as their access returns, so try again later or ask them about it.",
  pausedVideoWhy: "The file it leads to is not available at the moment.",
  pausedVideoNext: "It works again once the file is available, so try again later.",
  notFoundTitle: "This link does not work",
  notFoundWhy: "There is no shared download at this address.",
  notFoundNext: "Check that you have the whole link, exactly as it was sent to you, or ask the sender to send it again.",
} as const;

export type Key = keyof typeof en;
/** What every other language gives: English's keys, each a phrase. */
export type Catalogue = { readonly [K in Key]: string };
