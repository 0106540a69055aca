//! The stable smoke run: every target over its seeds, its regression inputs, and inputs made
//! from a fixed seed (random ones, and the seeds mutated with the target's dictionary), in a
//! bounded time, without cargo-fuzz or a nightly compiler.
//!
//! The files live in the cargo-fuzz harness's directory, `fuzz/`:
//!
//! - `fuzz/seeds/<target>/`: hand-written inputs, one per file, that reach what the target
//!   checks (cargo-fuzz starts from them too);
//! - `fuzz/regressions/<target>/`: inputs that once failed, kept so that they never fail again;
//! - `fuzz/dict/<target>.dict`: tokens in libFuzzer's dictionary format, for both fuzzers.

use std::any::Any;
use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Once;
use std::time::{Duration, Instant};

use crate::Target;
use crate::source::Rng;

/// The largest input the smoke run makes.
const MAX_INPUT: usize = 4096;

/// How many inputs the smoke run makes for each target, and from which seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    /// The seed of the generator.
    pub seed: u64,
    /// Inputs made of random bytes and dictionary tokens.
    pub random: usize,
    /// Seeds with a few mutations each.
    pub mutated: usize,
}

impl Default for Plan {
    /// 300 random and 1,200 mutated inputs per target, from seed 20261128.
    fn default() -> Self {
        Self {
            seed: 20_261_128,
            random: 300,
            mutated: 1_200,
        }
    }
}

/// The harness's directory, `fuzz/` at the workspace's root.
pub fn fuzz_dir() -> PathBuf {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    crate_dir
        .ancestors()
        .nth(2)
        .unwrap_or(crate_dir)
        .join("fuzz")
}

/// The files of `dir`, sorted by name, with their bytes; none when it does not exist.
pub fn files_in(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<(PathBuf, Vec<u8>)> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.is_file())
        .map(|path| {
            let bytes = std::fs::read(&path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            (path, bytes)
        })
        .collect();
    files.sort();
    files
}

/// The tokens of a libFuzzer dictionary: one quoted token per line (`name="…"` or `"…"`),
/// with `\\`, `\"` and `\xHH` escapes; `#` starts a comment line.
pub fn parse_dictionary(text: &str) -> Result<Vec<Vec<u8>>, String> {
    let mut tokens = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = |what: &str| format!("line {}: {what}", number + 1);
        let open = line.find('"').ok_or_else(|| bad("no opening quote"))?;
        let quoted = line[open + 1..]
            .strip_suffix('"')
            .ok_or_else(|| bad("no closing quote"))?;
        let mut token = Vec::new();
        let mut bytes = quoted.bytes();
        while let Some(byte) = bytes.next() {
            if byte != b'\\' {
                token.push(byte);
                continue;
            }
            match bytes.next() {
                Some(b'\\') => token.push(b'\\'),
                Some(b'"') => token.push(b'"'),
                Some(b'x') => {
                    let high = bytes.next().ok_or_else(|| bad("a cut \\x escape"))?;
                    let low = bytes.next().ok_or_else(|| bad("a cut \\x escape"))?;
                    let hex = [high, low];
                    let hex = std::str::from_utf8(&hex).map_err(|_| bad("a bad \\x escape"))?;
                    token.push(u8::from_str_radix(hex, 16).map_err(|_| bad("a bad \\x escape"))?);
                }
                _ => return Err(bad("an unknown escape")),
            }
        }
        tokens.push(token);
    }
    Ok(tokens)
}

/// The dictionary of `target`, empty when it has none.
pub fn dictionary(target: &str) -> Vec<Vec<u8>> {
    let path = fuzz_dir().join("dict").join(format!("{target}.dict"));
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            parse_dictionary(&text).unwrap_or_else(|e| panic!("dictionary {}: {e}", path.display()))
        }
        Err(_) => Vec::new(),
    }
}

/// Makes inputs from seeds and tokens.
#[derive(Debug)]
pub struct Generator {
    rng: Rng,
    seeds: Vec<Vec<u8>>,
    tokens: Vec<Vec<u8>>,
}

impl Generator {
    /// A generator from `seed`, mutating `seeds` with `tokens`.
    pub fn new(seed: u64, seeds: Vec<Vec<u8>>, tokens: Vec<Vec<u8>>) -> Self {
        Self {
            rng: Rng::new(seed),
            seeds,
            tokens,
        }
    }

    /// An input of random bytes and tokens.
    pub fn random(&mut self) -> Vec<u8> {
        let pieces = self.rng.below(24);
        let mut input = Vec::new();
        for _ in 0..pieces {
            if !self.tokens.is_empty() && self.rng.below(2) == 0 {
                let token = &self.tokens[self.rng.below(self.tokens.len())];
                input.extend_from_slice(token);
            } else {
                let run = 1 + self.rng.below(8);
                input.extend((0..run).map(|_| self.rng.next_u64() as u8));
            }
        }
        input.truncate(MAX_INPUT);
        input
    }

    /// A seed with one to four mutations.
    pub fn mutated(&mut self) -> Vec<u8> {
        let mut input = if self.seeds.is_empty() {
            Vec::new()
        } else {
            self.seeds[self.rng.below(self.seeds.len())].clone()
        };
        for _ in 0..1 + self.rng.below(4) {
            self.mutate(&mut input);
        }
        input.truncate(MAX_INPUT);
        input
    }

    fn mutate(&mut self, input: &mut Vec<u8>) {
        let at = self.rng.below(input.len() + 1);
        match self.rng.below(8) {
            0 if at < input.len() => input[at] ^= 1 << self.rng.below(8),
            1 if at < input.len() => input[at] = self.rng.next_u64() as u8,
            2 | 3 if !self.tokens.is_empty() => {
                let token = self.tokens[self.rng.below(self.tokens.len())].clone();
                if self.rng.below(2) == 0 || at + token.len() > input.len() {
                    input.splice(at..at, token);
                } else {
                    input.splice(at..at + token.len(), token);
                }
            }
            4 => {
                let end = (at + 1 + self.rng.below(16)).min(input.len());
                input.drain(at.min(end)..end);
            }
            5 => {
                let end = (at + 1 + self.rng.below(32)).min(input.len());
                let copy = input[at.min(end)..end].to_vec();
                let to = self.rng.below(input.len() + 1);
                input.splice(to..to, copy);
            }
            6 if !self.seeds.is_empty() => {
                let other = &self.seeds[self.rng.below(self.seeds.len())];
                let from = self.rng.below(other.len() + 1);
                input.truncate(at);
                input.extend_from_slice(&other[from..]);
            }
            _ => input.truncate(at),
        }
    }
}

/// An input of a target that failed, and why.
#[derive(Debug)]
pub struct Failure {
    /// Where the input came from: a file, or the generator.
    pub origin: String,
    /// The input.
    pub input: Vec<u8>,
    /// The panic's message.
    pub message: String,
    /// Where the input was saved, to be added to the regressions once fixed.
    pub saved: Option<PathBuf>,
}

/// What the smoke run of one target did.
#[derive(Debug)]
pub struct Report {
    /// The target's name.
    pub target: &'static str,
    /// Inputs run from files (seeds and regressions).
    pub files: usize,
    /// Inputs run from the generator.
    pub generated: usize,
    /// How long it took.
    pub took: Duration,
    /// The inputs that failed.
    pub failures: Vec<Failure>,
}

thread_local! {
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

/// Keeps panics of inputs run by [`run_input`] off standard error (their message is in the
/// [`Failure`]); other panics are reported as usual.
fn install_quiet_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !QUIET.get() {
                default(info);
            }
        }));
    });
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_string())
}

/// Runs `target` on `input`; `Err` with the panic's message when a check fails.
pub fn run_input(target: &Target, input: &[u8]) -> Result<(), String> {
    install_quiet_hook();
    QUIET.set(true);
    let result = panic::catch_unwind(AssertUnwindSafe(|| (target.run)(input)));
    QUIET.set(false);
    result.map_err(|payload| panic_message(payload.as_ref()))
}

/// Saves a failing input where a person can find it:
/// `<temp dir>/hubspot-projects-fuzz-smoke/<target>/<hash>`.
fn save(target: &str, input: &[u8]) -> Option<PathBuf> {
    let dir = std::env::temp_dir()
        .join("hubspot-projects-fuzz-smoke")
        .join(target);
    std::fs::create_dir_all(&dir).ok()?;
    let hash = input.iter().fold(0xcbf2_9ce4_8422_2325_u64, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    });
    let path = dir.join(format!("{hash:016x}"));
    std::fs::write(&path, input).ok()?;
    Some(path)
}

/// Runs `target` over its seeds, its regression inputs and the inputs `plan` makes.
pub fn smoke(target: &'static Target, plan: Plan) -> Report {
    let started = Instant::now();
    let dir = fuzz_dir();
    let seeds = files_in(&dir.join("seeds").join(target.name));
    let regressions = files_in(&dir.join("regressions").join(target.name));
    let mut failures = Vec::new();
    let mut fail = |origin: String, input: &[u8], message: String| {
        failures.push(Failure {
            origin,
            input: input.to_vec(),
            message,
            saved: save(target.name, input),
        });
    };
    for (path, input) in seeds.iter().chain(&regressions) {
        if let Err(message) = run_input(target, input) {
            fail(path.display().to_string(), input, message);
        }
    }
    // Each target gets its own stream of inputs, the same on every run.
    let name_seed = target
        .name
        .bytes()
        .fold(plan.seed, |seed, b| seed.rotate_left(5) ^ u64::from(b));
    let mut generator = Generator::new(
        name_seed,
        seeds
            .iter()
            .chain(&regressions)
            .map(|(_, bytes)| bytes.clone())
            .collect(),
        dictionary(target.name),
    );
    for index in 0..plan.random + plan.mutated {
        let input = if index < plan.random {
            generator.random()
        } else {
            generator.mutated()
        };
        if let Err(message) = run_input(target, &input) {
            fail(format!("generated input {index}"), &input, message);
        }
    }
    Report {
        target: target.name,
        files: seeds.len() + regressions.len(),
        generated: plan.random + plan.mutated,
        took: started.elapsed(),
        failures,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dictionaries_read_libfuzzers_format() {
        let text = "# comment\nkw=\"a\\\"b\"\n\"\\x00\\\\\"\n\n";
        assert_eq!(
            parse_dictionary(text),
            Ok(vec![b"a\"b".to_vec(), b"\x00\\".to_vec()])
        );
        assert!(parse_dictionary("nope").is_err());
        assert!(parse_dictionary("\"\\q\"").is_err());
    }

    #[test]
    fn the_generator_is_deterministic_and_bounded() {
        let make = || {
            let mut generator =
                Generator::new(7, vec![b"seed,input\n".to_vec()], vec![b"\"".to_vec()]);
            (0..200)
                .map(|i| {
                    if i % 2 == 0 {
                        generator.random()
                    } else {
                        generator.mutated()
                    }
                })
                .collect::<Vec<_>>()
        };
        let first = make();
        assert_eq!(first, make());
        assert!(first.iter().all(|input| input.len() <= MAX_INPUT));
        assert!(
            first
                .iter()
                .any(|input| input.windows(4).any(|w| w == b"seed"))
        );
    }

    #[test]
    fn a_failing_check_is_caught_with_its_message() {
        let target = Target {
            name: "always_fails",
            run: |input| assert!(input.is_empty(), "not empty: {}", input.len()),
        };
        assert_eq!(run_input(&target, b""), Ok(()));
        assert_eq!(run_input(&target, b"ab"), Err("not empty: 2".to_string()));
    }
}
