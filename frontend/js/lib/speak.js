// The board's voice: a chime and the call spoken in Bahasa Indonesia ("Nomor tujuh belas, silakan
// ke loket dua") through speechSynthesis. Browsers play sound only after a tap, so a lobby screen
// switches it on with a button; `terbilang` writes a number in Indonesian words.

const ONES = ["nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan", "sepuluh", "sebelas"];

/** A whole number (0 to 999 999 999 999) in Indonesian words: 17 → "tujuh belas", 1000 → "seribu". */
export function terbilang(value) {
  const n = Math.floor(Math.abs(Number(value)));
  if (!Number.isFinite(n)) return "";
  const words = (x) => {
    if (x < 12) return ONES[x];
    if (x < 20) return `${ONES[x - 10]} belas`;
    if (x < 100) return join(`${ONES[Math.floor(x / 10)]} puluh`, x % 10);
    if (x < 200) return join("seratus", x - 100);
    if (x < 1000) return join(`${ONES[Math.floor(x / 100)]} ratus`, x % 100);
    if (x < 2000) return join("seribu", x - 1000);
    if (x < 1_000_000) return join(`${words(Math.floor(x / 1000))} ribu`, x % 1000);
    if (x < 1_000_000_000) return join(`${words(Math.floor(x / 1_000_000))} juta`, x % 1_000_000);
    return join(`${words(Math.floor(x / 1_000_000_000))} miliar`, x % 1_000_000_000);
  };
  const join = (head, rest) => (rest ? `${head} ${words(rest)}` : head);
  return words(n);
}

/** The call as spoken: "Nomor tujuh belas, silakan ke loket dua" (a letter prefix is read as is). */
export function callWords(number, counter, { prefix = "", recall = false } = {}) {
  const who = [prefix, terbilang(number)].filter(Boolean).join(" ");
  return `${recall ? "Panggilan ulang. " : ""}Nomor ${who}, silakan ke loket ${terbilang(counter)}`;
}

let audio = null;

function chime() {
  try {
    audio ??= new (window.AudioContext || window.webkitAudioContext)();
    const start = audio.currentTime;
    [880, 660].forEach((frequency, i) => {
      const tone = audio.createOscillator();
      const gain = audio.createGain();
      tone.frequency.value = frequency;
      gain.gain.setValueAtTime(0.25, start + i * 0.45);
      gain.gain.exponentialRampToValueAtTime(0.001, start + i * 0.45 + 0.4);
      tone.connect(gain).connect(audio.destination);
      tone.start(start + i * 0.45);
      tone.stop(start + i * 0.45 + 0.42);
    });
  } catch {
    /* no Web Audio: the words alone */
  }
}

/** Switch the sound on (from a tap: browsers unlock audio only then). Whether speech is available. */
export function unlock() {
  try {
    audio ??= new (window.AudioContext || window.webkitAudioContext)();
    audio.resume?.();
  } catch {
    /* no Web Audio */
  }
  return "speechSynthesis" in window;
}

/** Chime, then say the call in Indonesian. */
export function announce(number, counter, options = {}) {
  chime();
  if (!("speechSynthesis" in window)) return;
  const utterance = new SpeechSynthesisUtterance(callWords(number, counter, options));
  utterance.lang = "id-ID";
  utterance.rate = 0.9;
  const voice = window.speechSynthesis.getVoices?.().find((v) => v.lang?.toLowerCase().startsWith("id"));
  if (voice) utterance.voice = voice;
  setTimeout(() => window.speechSynthesis.speak(utterance), 900);
}
