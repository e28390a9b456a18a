//! Loader behaviour: order determinism across thread counts, bounded prefetch, the bad-data
//! policy (skip + count, then a typed error), worker panics, and shutdown without hangs.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use panopticon_data::augment::{
    AugRng, CropSetConfig, Draws, Image, PanopticonAugmentation, PanopticonAugmentationConfig, View,
};
use panopticon_data::datasets::{DatasetError, PretrainSource};
use panopticon_data::loader::{
    InfiniteSampler, LoaderConfig, LoaderError, PretrainLoader, Sampling, SequentialSampler,
    forward_fisher_yates,
};
use panopticon_data::masking::{IbotMaskConfig, MaskingGenerator};

/// In-memory dataset: sample `i` is a 5-channel 12×12 optical view plus a 2-channel 6×6 SAR
/// view whose values encode `i`, loaded
/// after a timing jitter; some indices fail or panic.
struct Synthetic {
    n: usize,
    fail_every: Option<usize>,
    panic_at: Option<usize>,
    jitter: bool,
    started: Arc<AtomicUsize>,
}

impl Synthetic {
    fn new(n: usize) -> Self {
        Self {
            n,
            fail_every: None,
            panic_at: None,
            jitter: true,
            started: Arc::new(AtomicUsize::new(0)),
        }
    }
}

impl PretrainSource for Synthetic {
    fn len(&self) -> usize {
        self.n
    }

    fn load(&self, index: usize, rng: &mut AugRng) -> Result<Vec<View>, DatasetError> {
        self.started.fetch_add(1, Ordering::SeqCst);
        if self.jitter {
            // Thread timing varies by index: later samples often finish first.
            std::thread::sleep(Duration::from_micros(((index * 7919) % 5) as u64 * 300));
        }
        if self.fail_every.is_some_and(|k| index % k == k - 1) {
            return Err(DatasetError::Io {
                path: PathBuf::from(format!("synthetic/{index}.tif")),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "missing"),
            });
        }
        if self.panic_at == Some(index) {
            panic!("synthetic panic at {index}");
        }
        // One random draw, as Satlas makes for its sensor pair.
        let offset = rng.uniform() as f32;
        let data = (0..5 * 12 * 12)
            .map(|k| index as f32 + k as f32 / 1000.0 + offset)
            .collect();
        let img = Image::new(data, [5, 12, 12], vec![442.0, 492.0, 559.0, 664.0, 704.0])
            .map_err(|e| DatasetError::Config(e.to_string()))?;
        let sar = (0..2 * 6 * 6).map(|k| -(index as f32) - k as f32).collect();
        let sar = Image::new(sar, [2, 6, 6], vec![-1.0, -2.0])
            .map_err(|e| DatasetError::Config(e.to_string()))?;
        Ok(vec![View::single(img), View::single(sar)])
    }

    fn path_of(&self, index: usize) -> Option<PathBuf> {
        Some(PathBuf::from(format!("synthetic/{index}.tif")))
    }
}

fn small_aug() -> PanopticonAugmentation {
    let mut c = PanopticonAugmentationConfig::stage2();
    c.global = CropSetConfig {
        size: 8,
        spectral_size: (2, 4),
        ..c.global
    };
    c.local = CropSetConfig {
        size: 4,
        spectral_size: (1, 2),
        number: 2,
        ..c.local
    };
    PanopticonAugmentation::new(c).expect("valid config")
}

fn loader(source: Synthetic, workers: usize, prefetch: usize, cfg: LoaderConfig) -> PretrainLoader {
    PretrainLoader::new(
        source,
        small_aug(),
        LoaderConfig {
            workers,
            prefetch,
            log_failures: false,
            ..cfg
        },
        IbotMaskConfig::default(),
        MaskingGenerator::for_grid(2).expect("grid"),
    )
    .expect("loader starts")
}

fn base(batch_size: usize) -> LoaderConfig {
    LoaderConfig {
        batch_size,
        seed: 7,
        sampling: Sampling::Infinite {
            seed: 3,
            advance: 0,
        },
        ..LoaderConfig::default()
    }
}

#[test]
fn output_is_identical_for_1_2_and_4_workers() {
    let run = |workers| {
        let mut l = loader(Synthetic::new(23), workers, 6, base(4));
        (0..8)
            .map(|_| l.next_batch().expect("ok").expect("infinite"))
            .collect::<Vec<_>>()
    };
    let one = run(1);
    for workers in [2, 4] {
        let other = run(workers);
        for (a, b) in one.iter().zip(&other) {
            assert_eq!(a.indices, b.indices);
            assert_eq!(a.sample_ids, b.sample_ids);
            assert_eq!(a.collated.global, b.collated.global, "{workers} workers");
            assert_eq!(a.collated.local, b.collated.local);
            assert_eq!(a.collated.masks, b.collated.masks);
        }
    }
    // 32 samples over 23 indices: the first pass is a permutation, and the batch follows
    // the sampler.
    let mut sampler = InfiniteSampler::new(23, 3, 0, 1).unwrap();
    let expect: Vec<usize> = (0..32).map(|_| sampler.next_task().index).collect();
    let got: Vec<usize> = one.iter().flat_map(|b| b.indices.clone()).collect();
    assert_eq!(got, expect);
    let first: HashSet<usize> = got[..23].iter().copied().collect();
    assert_eq!(first.len(), 23);
    // Different seed, different crops.
    let mut l = loader(
        Synthetic::new(23),
        2,
        6,
        LoaderConfig { seed: 8, ..base(4) },
    );
    let b = l.next_batch().unwrap().unwrap();
    assert_eq!(b.indices, one[0].indices);
    assert_ne!(b.collated.global.imgs, one[0].collated.global.imgs);
}

#[test]
fn prefetch_depth_bounds_samples_in_flight() {
    let source = Synthetic {
        jitter: false,
        ..Synthetic::new(100)
    };
    let started = Arc::clone(&source.started);
    let mut l = loader(source, 4, 3, base(2));
    // Nobody consumes: the workers must stop after `prefetch` samples.
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(started.load(Ordering::SeqCst), 3);
    for _ in 0..10 {
        l.next_batch().unwrap().unwrap();
    }
    assert!(l.peak_in_flight() <= 3, "peak {}", l.peak_in_flight());
    std::thread::sleep(Duration::from_millis(200));
    // 20 consumed + at most 3 in flight.
    assert!(started.load(Ordering::SeqCst) <= 23);
}

#[test]
fn failed_samples_are_skipped_and_counted() {
    let source = Synthetic {
        fail_every: Some(5),
        ..Synthetic::new(20)
    };
    let mut l = loader(
        source,
        2,
        4,
        LoaderConfig {
            sampling: Sampling::Sequential,
            ..base(3)
        },
    );
    let mut seen = Vec::new();
    while let Some(b) = l.next_batch().expect("below max_failures") {
        assert!(
            b.indices.len() == 3 || seen.len() == 15,
            "only the last batch is short"
        );
        seen.extend(b.indices);
    }
    let expect: Vec<usize> = (0..20).filter(|i| i % 5 != 4).collect();
    assert_eq!(seen, expect);
    let failed: Vec<usize> = l.failures().iter().map(|f| f.index).collect();
    assert_eq!(failed, vec![4, 9, 14, 19]);
    assert!(l.failures()[0].to_string().contains("synthetic/4.tif"));
}

#[test]
fn too_many_failures_is_a_typed_error_naming_the_files() {
    let source = Synthetic {
        fail_every: Some(2),
        ..Synthetic::new(40)
    };
    let mut l = loader(
        source,
        2,
        4,
        LoaderConfig {
            max_failures: 2,
            sampling: Sampling::Sequential,
            ..base(4)
        },
    );
    let err = loop {
        match l.next_batch() {
            Ok(Some(_)) => continue,
            Ok(None) => panic!("should have failed"),
            Err(e) => break e,
        }
    };
    match &err {
        LoaderError::TooManyFailures { max, failures } => {
            assert_eq!(*max, 2);
            let idx: Vec<usize> = failures.iter().map(|f| f.index).collect();
            assert_eq!(idx, vec![1, 3, 5]);
        }
        other => panic!("unexpected {other}"),
    }
    let msg = err.to_string();
    for f in ["synthetic/1.tif", "synthetic/3.tif", "synthetic/5.tif"] {
        assert!(msg.contains(f), "{msg}");
    }
    // Finished after the error.
    assert!(l.next_batch().unwrap().is_none());
}

#[test]
fn a_panicking_worker_is_reported_not_propagated() {
    let source = Synthetic {
        panic_at: Some(6),
        ..Synthetic::new(12)
    };
    let mut l = loader(
        source,
        3,
        4,
        LoaderConfig {
            sampling: Sampling::Sequential,
            ..base(4)
        },
    );
    assert_eq!(l.next_batch().unwrap().unwrap().indices, vec![0, 1, 2, 3]);
    match l.next_batch() {
        Err(LoaderError::WorkerPanic { index, message, .. }) => {
            assert_eq!(index, 6);
            assert!(message.contains("synthetic panic at 6"));
        }
        other => panic!(
            "expected WorkerPanic, got {:?}",
            other.map(|b| b.map(|b| b.indices))
        ),
    }
}

#[test]
fn drop_does_not_hang_with_full_queue_or_busy_workers() {
    // Full queue, nobody consuming.
    let l = loader(Synthetic::new(50), 4, 2, base(2));
    std::thread::sleep(Duration::from_millis(50));
    let t = Instant::now();
    drop(l);
    assert!(t.elapsed() < Duration::from_secs(2));

    // Busy workers (slow loads) after a partial consumption.
    struct Slow(Synthetic);
    impl PretrainSource for Slow {
        fn len(&self) -> usize {
            self.0.len()
        }
        fn load(&self, i: usize, rng: &mut AugRng) -> Result<Vec<View>, DatasetError> {
            std::thread::sleep(Duration::from_millis(40));
            self.0.load(i, rng)
        }
        fn path_of(&self, i: usize) -> Option<PathBuf> {
            self.0.path_of(i)
        }
    }
    let mut l = PretrainLoader::new(
        Slow(Synthetic::new(50)),
        small_aug(),
        LoaderConfig {
            workers: 2,
            prefetch: 8,
            ..base(2)
        },
        IbotMaskConfig::default(),
        MaskingGenerator::for_grid(2).unwrap(),
    )
    .unwrap();
    l.next_batch().unwrap().unwrap();
    let t = Instant::now();
    drop(l);
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
}

#[test]
fn sampler_strides_ranks_and_reshuffles_each_pass() {
    let n = 10;
    let world = 3;
    let mut ranks: Vec<InfiniteSampler> = (0..world)
        .map(|r| InfiniteSampler::new(n, 42, r, world).unwrap())
        .collect();
    // Per pass, rank r takes positions r, r+3, … of the same permutation.
    let mut rng = AugRng::seed_from_u64(42);
    for pass in 0..3u64 {
        let perm = forward_fisher_yates(n, &mut rng);
        let mut union = Vec::new();
        for (r, s) in ranks.iter_mut().enumerate() {
            let k = (n - r).div_ceil(world);
            for j in 0..k {
                let t = s.next_task();
                assert_eq!(t.index, perm[r + j * world]);
                assert_eq!(t.sample_id, pass * n as u64 + (r + j * world) as u64);
                union.push(t.index);
            }
        }
        union.sort();
        assert_eq!(
            union,
            (0..n).collect::<Vec<_>>(),
            "pass {pass} covers all once"
        );
    }
    // advance == skipping.
    let mut a = InfiniteSampler::new(n, 5, 1, 2).unwrap();
    let mut b = a.clone();
    b.advance(13);
    for _ in 0..13 {
        a.next_task();
    }
    assert_eq!(a.next_task(), b.next_task());
    // Sequential sharding and bad settings.
    let s: Vec<usize> = SequentialSampler::new(7, 1, 3)
        .unwrap()
        .map(|t| t.index)
        .collect();
    assert_eq!(s, vec![1, 4]);
    assert!(InfiniteSampler::new(0, 0, 0, 1).is_err());
    assert!(InfiniteSampler::new(4, 0, 2, 2).is_err());
    assert!(InfiniteSampler::new(2, 0, 2, 4).is_err());
}

#[test]
fn forward_fisher_yates_follows_the_spec_formula() {
    // Replays the draws: j = i + floor(u · (n − i)).
    let mut a = AugRng::seed_from_u64(9);
    let mut b = AugRng::seed_from_u64(9);
    let p = forward_fisher_yates(6, &mut a);
    let mut q: Vec<usize> = (0..6).collect();
    for i in 0..5 {
        let j = i + (b.uniform() * (6 - i) as f64) as usize;
        q.swap(i, j);
    }
    assert_eq!(p, q);
}
