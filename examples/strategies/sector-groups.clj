; alch example (not investment advice): a larger symphony using every form of the language.
; Four sector groups compete in a filter: each group is scored on its OWN daily value
; series (the group re-evaluated on each day of the window), not on an average of its
; members. 70% goes to the winning group, 30% to a volatility-weighted staples sleeve.
; When MSFT is overbought or in a deep drawdown, everything moves to staples.
;   ALCH_SIM_BARS=../shared/data/us-daily alch signal examples/strategies/sector-groups.clj
(defsymphony
 "Sector groups with a staples sleeve"
 {:rebalance-threshold 0.04, :rebalance-frequency :daily}
 (if
  (> (rsi "MSFT" {:window 10}) 85)
  [(weight-equal [(asset "KO" "Coca-Cola") (asset "PG" "Procter & Gamble")])]
  [(if
    (>= (max-drawdown "MSFT" {:window 20}) 15)
    [(weight-equal [(asset "KO") (asset "PG") (asset "JNJ" "Johnson & Johnson")])]
    [(weight-specified
      0.7
      (filter
       (cumulative-return {:window 21})
       (select-top 1)
       [(group "Technology" [(weight-equal [(asset "AAPL" "Apple") (asset "MSFT" "Microsoft")])])
        (group
         "Health"
         [(if
           (> (exponential-moving-average-price "UNH" {:window 12})
              (moving-average-price "UNH" {:window 26}))
           [(asset "UNH" "UnitedHealth")]
           [(weight-equal [(asset "JNJ") (asset "MRK" "Merck")])])])
        (group
         "Energy and banks"
         [(filter
           (moving-average-return {:window 10})
           (select-top 1)
           [(asset "XOM" "Exxon Mobil") (asset "JPM" "JPMorgan Chase")])])
        (group
         "Retail"
         [(if
           (< (stdev-return "HD" {:window 21}) 2.5)
           [(asset "HD" "Home Depot")]
           [(asset "PEP" "PepsiCo")])])])
      0.3
      (weight-inverse-volatility 21 [(asset "KO") (asset "PEP") (asset "PG")]))])]))
