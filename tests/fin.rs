//! `hubmesh fin …` against a fin hub: budgets, commitments, an import with its summary, reports.

use crate::support::Mesh;

#[tokio::test]
async fn fin_commands_set_budgets_import_files_and_report() {
    let mesh = Mesh::start_hub("fin", fin_hub::modules()).await;
    mesh.admin(&[
        "domain", "create", "finance", "--name", "Finance", "--hub", "fin",
    ])
    .await
    .ok();
    mesh.admin(&[
        "fin",
        "budget",
        "set",
        "finance",
        "2026-01",
        "100000",
        "--thresholds",
        "50,100",
    ])
    .await
    .ok();
    mesh.admin(&[
        "fin",
        "commit",
        "add",
        "--kind",
        "subscription",
        "--vendor",
        "Acme",
        "--domain",
        "finance",
        "--amount",
        "5000",
        "--currency",
        "EUR",
        "--cadence",
        "one-off",
        "--start",
        "2026-01-15",
    ])
    .await
    .ok();

    let file = mesh.data_dir.path().join("jan.csv");
    std::fs::write(
        &file,
        "BilledCost,BillingCurrency,ChargePeriodStart,ServiceName,SubAccountName\n\
         100.00,EUR,2026-01-03T00:00:00Z,crm,finance\n\
         50.00,EUR,2026-01-04T00:00:00Z,mail,finance\n\
         oops,EUR,2026-01-04T00:00:00Z,mail,finance\n",
    )
    .expect("write the CSV");
    let path = file.to_str().expect("path");
    let out = mesh.admin(&["fin", "import", path]).await.ok();
    assert_eq!(out.column("LINE"), ["4"]);
    assert!(
        out.stdout
            .contains("3 rows, 2 inserted, 0 already present, 1 rejected (focus)"),
        "{out:#?}"
    );
    assert!(out.stderr.contains("uploading 100%"), "{out:#?}");
    let again = mesh.admin(&["fin", "import", path]).await.ok();
    assert!(
        again.stdout.contains("0 inserted, 2 already present"),
        "{again:#?}"
    );

    let budgets = mesh.admin(&["fin", "budget", "list"]).await.ok();
    assert_eq!(budgets.column("PERIOD"), ["2026-01"]);
    assert_eq!(budgets.column("SPENT"), ["15000"]);
    assert_eq!(budgets.column("COMMITTED"), ["5000"]);
    assert_eq!(budgets.column("CROSSED"), ["-"]);
    let costs = mesh
        .admin(&["fin", "costs", "service", "--period", "2026-01"])
        .await
        .ok();
    assert_eq!(costs.column("KEY"), ["crm", "mail"]);
    assert_eq!(costs.column("AMOUNT"), ["10000", "5000"]);
    let burn = mesh
        .admin(&["fin", "burn", "--as-of", "2026-02-10", "--months", "2"])
        .await
        .ok();
    assert_eq!(burn.column("ACTUAL"), ["15000", "0"]);
    assert!(burn.stdout.contains("trailing_average"), "{burn:#?}");

    let missing = mesh
        .admin(&["fin", "runway", "--as-of", "2026-02-10"])
        .await
        .error();
    assert!(
        missing.contains("balance at or before 2026-02-10 not found"),
        "{missing}"
    );
    mesh.admin(&[
        "fin",
        "balance",
        "add",
        "--date",
        "2026-02-01",
        "--amount",
        "1000000",
        "--currency",
        "EUR",
    ])
    .await
    .ok();
    let runway = mesh
        .admin(&["fin", "runway", "--as-of", "2026-02-10", "--json"])
        .await
        .ok()
        .json();
    assert_eq!(runway["monthly_burn"], 15_000);
    assert_eq!(runway["below_threshold"], false);

    let unpriced = mesh
        .admin(&[
            "fin",
            "spend",
            "token",
            "--provider",
            "acme",
            "--model",
            "m1",
            "--tokens-in",
            "1",
            "--tokens-out",
            "1",
            "--domain",
            "finance",
        ])
        .await
        .error();
    assert!(
        unpriced.contains("no price known for provider acme model m1"),
        "{unpriced}"
    );
}
