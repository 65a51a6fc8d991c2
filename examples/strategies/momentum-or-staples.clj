; alch example (not investment advice): hold the two strongest of four large caps while
; AAPL's 50-day average is above its 200-day one, else three consumer staples equally.
; Runs on the simulator's synthetic bars, or on real closes:
;   ALCH_SIM_BARS=../shared/data/us-daily alch signal examples/strategies/momentum-or-staples.clj
(defsymphony
 "Momentum or staples"
 {:rebalance-threshold 0.05, :rebalance-frequency :daily}
 (if
  (> (moving-average-price "AAPL" {:window 50})
     (moving-average-price "AAPL" {:window 200}))
  [(filter
    (cumulative-return {:window 63})
    (select-top 2)
    [(asset "AAPL" "Apple") (asset "MSFT" "Microsoft") (asset "JPM" "JPMorgan Chase")
     (asset "HD" "Home Depot")])]
  [(weight-equal [(asset "KO" "Coca-Cola") (asset "PG" "Procter & Gamble")
                  (asset "JNJ" "Johnson & Johnson")])]))
