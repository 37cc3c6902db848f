//! CSV imports: FOCUS, native, mapped and token usage; row errors; re-import; malformed files.

use serde_json::json;

use crate::both;
use crate::support::{ADMIN, FINANCE, READER, Res, TestHub};

fn focus_file() -> Vec<u8> {
    let mut f = b"BilledCost,BillingCurrency,ChargePeriodStart,ServiceName,SubAccountName,ProviderName,ResourceId\n\
12.50,EUR,2026-01-05T00:00:00Z,crm,finance,AWS,r1\n\
7.25,USD,2026-01-06T00:00:00Z,crm,finance,AWS,r2\n\
-1.00,EUR,2026-01-06T00:00:00Z,crm,finance,AWS,r3\n\
abc,EUR,2026-01-06,crm,finance,AWS,r4\n\
1.00,XYZ,2026-01-06,crm,finance,AWS,r5\n\
1.00,EUR,2026-01-06,crm,nowhere,AWS,r6\n\
3.00,EUR,2026-01-07,\"crm\nsuite\",infotech,AWS,r7\n\
2.00,EUR,2026-01-07,crm,finance,AWS\n\
5.00,EUR,2026-01-08,cr"
        .to_vec();
    f.extend_from_slice(b"\xe9m,finance,AWS,r9\n");
    f
}

fn lines(report: &serde_json::Value) -> Vec<(u64, String)> {
    report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["line"].as_u64().unwrap(),
                e["field"].as_str().unwrap_or("-").to_owned(),
            )
        })
        .collect()
}

both!(
    a_focus_import_keeps_valid_rows_names_bad_lines_and_a_reimport_adds_nothing,
    |hub: TestHub| async move {
        let report = hub
            .upload("filename=jan.csv", ADMIN, focus_file())
            .await
            .expect(201)
            .json;
        assert_eq!(report["format"], "focus");
        assert_eq!(report["status"], "completed");
        assert_eq!(
            (
                report["rows"].as_i64(),
                report["inserted"].as_i64(),
                report["rejected"].as_i64()
            ),
            (Some(9), Some(3), Some(6))
        );
        let expected: Vec<(u64, String)> = [
            (4, "amount"),
            (5, "amount"),
            (6, "currency"),
            (7, "domain"),
            (10, "-"),
            (11, "service_id"),
        ]
        .into_iter()
        .map(|(l, f)| (l, f.to_owned()))
        .collect();
        assert_eq!(lines(&report), expected);
        assert!(
            report["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("between 0 and")
        );

        let costs = || async {
            hub.get("/api/v1/fin/costs/by-domain?period=2026-01", ADMIN)
                .await
                .expect(200)
                .json["items"]
                .clone()
        };
        // finance: 1250 + 7.25 USD (725 cents at 0.5 = 362.5 -> 363) = 1613; infotech: 300.
        let before = costs().await;
        assert_eq!(before[0]["amount"], 1_613);
        assert_eq!(before[1]["amount"], 300);
        let services = hub
            .get("/api/v1/fin/costs/by-service?period=2026-01", ADMIN)
            .await
            .expect(200)
            .json;
        let keys: Vec<&str> = services["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["key"].as_str().unwrap())
            .collect();
        assert_eq!(keys, ["crm", "crm\nsuite"]);

        let again = hub.upload("", ADMIN, focus_file()).await.expect(201).json;
        assert_eq!(
            (
                again["inserted"].as_i64(),
                again["duplicates"].as_i64(),
                again["rejected"].as_i64()
            ),
            (Some(0), Some(3), Some(6))
        );
        assert_eq!(costs().await, before);

        let imports = hub.get("/api/v1/fin/imports", ADMIN).await.expect(200).json;
        assert_eq!(imports["items"].as_array().unwrap().len(), 2);
        let id = report["id"].as_str().unwrap();
        let one = hub
            .get(&format!("/api/v1/fin/imports/{id}"), ADMIN)
            .await
            .expect(200)
            .json;
        assert_eq!(one["filename"], "jan.csv");
        hub.get("/api/v1/fin/imports/nope", ADMIN)
            .await
            .problem(404);
        let imported = hub
            .get("/api/v1/fin/spend?source=import&period=2026-01", ADMIN)
            .await
            .expect(200)
            .json;
        assert_eq!(imported["items"].as_array().unwrap().len(), 3);
        assert_eq!(hub.outbox_count("fin_import.finished").await, 2);
    }
);

both!(
    native_mapped_and_token_usage_files_import,
    |hub: TestHub| async move {
        let native = "date,amount,currency,domain,service_id,external_id\n2026-02-01,10.00,EUR,finance,crm,n1\n2026-02-01,10.00,EUR,finance,crm,n1\n";
        let r = hub.upload("", FINANCE, native).await.expect(201).json;
        // The same external id twice in one file counts once.
        assert_eq!(
            (
                r["format"].as_str(),
                r["inserted"].as_i64(),
                r["duplicates"].as_i64()
            ),
            (Some("native"), Some(1), Some(1))
        );

        let mapped = "Day,Cost,Cur\n2026-02-02,1.5,EUR\n";
        let r = hub
            .upload(
                "map=date:Day,amount:Cost,currency:Cur&domain=finance",
                ADMIN,
                mapped,
            )
            .await
            .expect(201)
            .json;
        assert_eq!(
            (r["format"].as_str(), r["inserted"].as_i64()),
            (Some("mapped"), Some(1))
        );

        let usage = "provider,model,tokens_in,tokens_out,domain,time,session_id\n\
openai,gpt-4o,1000000,0,finance,2026-02-03T10:00:00Z,s1\n\
openai,unknown,1,1,finance,2026-02-03T10:00:00Z,s1\n\
anthropic,claude,1000000,1000000,finance,2026-02-04,s2\n";
        let r = hub
            .upload("kind=token_usage", ADMIN, usage)
            .await
            .expect(201)
            .json;
        assert_eq!(
            (r["inserted"].as_i64(), r["rejected"].as_i64()),
            (Some(2), Some(1))
        );
        assert_eq!(lines(&r), [(3, "cost".to_owned())]);
        let again = hub
            .upload("kind=token_usage", ADMIN, usage)
            .await
            .expect(201)
            .json;
        assert_eq!(
            (again["inserted"].as_i64(), again["duplicates"].as_i64()),
            (Some(0), Some(2))
        );
        let tokens = hub
            .get("/api/v1/fin/token-spend", ADMIN)
            .await
            .expect(200)
            .json;
        let costs: Vec<(i64, &str)> = tokens["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| (t["cost"].as_i64().unwrap(), t["currency"].as_str().unwrap()))
            .collect();
        // claude: 3 + 15 EUR; gpt-4o: 2.50 USD.
        assert_eq!(costs, [(1_800, "EUR"), (250, "USD")]);
        let feb = hub
            .get("/api/v1/fin/costs/by-domain?period=2026-02", ADMIN)
            .await
            .expect(200)
            .json;
        // 1000 + 150 + 125 (250 USD) + 1800.
        assert_eq!(feb["items"][0]["amount"], 3_075);

        // A domain-limited importer cannot write another domain's rows.
        let other = "date,amount,currency,domain\n2026-02-05,1,EUR,infotech\n";
        let r = hub.upload("", FINANCE, other).await.expect(201).json;
        assert_eq!(r["errors"][0]["message"], "no access to domain infotech");
    }
);

both!(
    malformed_files_are_refused_whole_and_write_nothing,
    |hub: TestHub| async move {
        let p = hub.upload("", ADMIN, "foo,bar\n1,2\n").await.problem(422);
        assert_eq!(Res::fields(&p), ["file"]);
        assert!(
            p["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("lacks the column(s)"),
            "{p}"
        );

        let p = hub
            .upload("", ADMIN, &b"\xff\xfed\x00a\x00t\x00e\x00\n"[..])
            .await
            .problem(422);
        assert!(
            p["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("UTF-8"),
            "{p}"
        );

        hub.upload("", ADMIN, "").await.problem(422);

        // A runaway record (an unterminated quote here, 5 MB) after valid rows: refused, nothing kept.
        let mut big =
            b"date,amount,currency,domain\n2026-01-01,1,EUR,finance\n2026-01-02,\"".to_vec();
        big.extend(std::iter::repeat_n(b'x', 5 << 20));
        let p = hub.upload("", ADMIN, big).await.problem(422);
        let msg = p["errors"][0]["message"].as_str().unwrap();
        assert!(
            msg.starts_with("line 3: a record is longer than 65536 bytes"),
            "{msg}"
        );

        let p = hub
            .upload("map=colour:Day", ADMIN, "Day\n1\n")
            .await
            .problem(422);
        assert_eq!(Res::fields(&p), ["map"]);
        let p = hub.upload("map=date", ADMIN, "Day\n1\n").await.problem(422);
        assert_eq!(Res::fields(&p), ["map"]);
        let p = hub
            .upload("kind=token_usage&format=focus", ADMIN, "BilledCost\n1\n")
            .await
            .problem(422);
        assert_eq!(Res::fields(&p), ["format"]);
        hub.upload("kind=gold", ADMIN, "a\n").await.problem(400);
        let p = hub
            .upload("domain=nowhere", ADMIN, "date,amount,currency\n")
            .await
            .problem(422);
        assert_eq!(Res::fields(&p), ["domain"]);
        hub.upload("", READER, "date,amount,currency,domain\n")
            .await
            .problem(403);

        assert_eq!(
            hub.get("/api/v1/fin/spend", ADMIN).await.expect(200).json["items"],
            json!([])
        );
        assert_eq!(
            hub.get("/api/v1/fin/imports", ADMIN).await.expect(200).json["items"],
            json!([])
        );
    }
);
