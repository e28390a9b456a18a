//! The SLURM and Kubernetes recipes in `scale/`: their commands, run as written, cover the
//! manifest like one run does.

use super::*;

/// The command of the Kubernetes example (`scale/k8s/embed-job.yaml`: the folded `args`
/// block), with its paths pointed at this test's files.
fn k8s_command(manifest: &Path, out: &Path) -> String {
    let yaml = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scale/k8s/embed-job.yaml"),
    )
    .unwrap();
    let mut lines = yaml.lines().skip_while(|l| l.trim() != "- >-").skip(1);
    let first = lines.next().unwrap();
    let indent = first.len() - first.trim_start().len();
    let folded: Vec<&str> = std::iter::once(first)
        .chain(
            lines.take_while(|l| l.len() - l.trim_start().len() >= indent && !l.trim().is_empty()),
        )
        .map(str::trim)
        .collect();
    folded
        .join(" ")
        .replace(
            "exec panopticon",
            &format!("exec '{}'", env!("CARGO_BIN_EXE_panopticon")),
        )
        .replace("/data/manifest.txt", p(manifest))
        .replace("/data/embeddings", p(out))
        .replace("--sensor sentinel2_l2a", "--sensor sentinel2_l1c --tile 32")
        .replace(
            "/weights/panopticon-vitb14.bpk --config vitb14",
            &format!(
                "{} --config tiny-test",
                tiny_dir().join("weights.pth").display()
            ),
        )
}

/// The SLURM array script and the Kubernetes Indexed Job command, run for every task /
/// completion index, embed each item once, as a single-process run does.
#[test]
fn slurm_and_kubernetes_recipes_cover_the_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = catalogue(dir.path(), 9, 32);
    let single = dir.path().join("single");
    let o = embed(&["--manifest", p(&manifest), "--out", p(&single), "--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scale/slurm/embed.sbatch");
    let (slurm, k8s) = (dir.path().join("slurm"), dir.path().join("k8s"));
    let k8s_cmd = k8s_command(&manifest, &k8s);
    assert!(
        k8s_cmd.contains("--shard \"${JOB_COMPLETION_INDEX}/8\""),
        "{k8s_cmd}"
    );
    for k in 0..8 {
        let o = Command::new("bash")
            .arg(&script)
            .env("SLURM_ARRAY_TASK_ID", k.to_string())
            .env("N_SHARDS", "8")
            .env("MANIFEST", &manifest)
            .env("OUT", &slurm)
            .env("PANOPTICON", env!("CARGO_BIN_EXE_panopticon"))
            .env("WEIGHTS", tiny_dir().join("weights.pth"))
            .env(
                "EMBED_ARGS",
                "--config tiny-test --sensor sentinel2_l1c --tile 32",
            )
            .output()
            .unwrap();
        assert!(o.status.success(), "task {k}: {}", stderr(&o));
        let o = Command::new("sh")
            .args(["-c", &k8s_cmd])
            .env("JOB_COMPLETION_INDEX", k.to_string())
            .output()
            .unwrap();
        assert!(o.status.success(), "index {k}: {}", stderr(&o));
    }
    for out in [&slurm, &k8s] {
        assert_eq!(listing(out), listing(&single));
        for n in listing(&single) {
            let same =
                std::fs::read(single.join(&n)).unwrap() == std::fs::read(out.join(&n)).unwrap();
            assert!(same, "{n}");
        }
    }
}
