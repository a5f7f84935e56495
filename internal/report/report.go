// Package report writes what a run produced: the seed's two CSV files, the JSON
// document, the findings CSV and the console lines and summary, in English or Spanish.
// One file per output format.
package report
