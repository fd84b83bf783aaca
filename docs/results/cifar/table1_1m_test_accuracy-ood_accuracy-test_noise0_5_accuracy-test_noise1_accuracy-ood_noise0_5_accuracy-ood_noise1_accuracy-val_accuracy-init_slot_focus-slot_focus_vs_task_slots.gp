# Made by modnet (modnet/analysis/plot.cpp); a self-contained gnuplot script, data inline.
# Remake the figure with:  cd <this directory> && gnuplot <this file>
# or write it elsewhere:   gnuplot -e "outfile='other.png'" <this file>
if (!exists("outfile")) outfile = 'table1_1m_test_accuracy-ood_accuracy-test_noise0_5_accuracy-test_noise1_accuracy-ood_noise0_5_accuracy-ood_noise1_accuracy-val_accuracy-init_slot_focus-slot_focus_vs_task_slots.png'
set encoding utf8
set terminal pngcairo noenhanced size 1680,1260 font ',10'
set output outfile
$s0_0 << EOD
6 0.4743166666666666
6 0.4715166666666666
6 0.4702833333333334
EOD
$s0_1 << EOD
6 0.47203888888888884
EOD
$s0_2 << EOD
6 0.4914833333333333
6 0.4947666666666667
6 0.4858666666666666
EOD
$s0_3 << EOD
6 0.49070555555555556
EOD
$s0_4 << EOD
6 0.4925666666666667
6 0.4973833333333333
6 0.4946833333333334
EOD
$s0_5 << EOD
6 0.4948777777777778
EOD
$s1_0 << EOD
6 0.4694166666666667
6 0.4655166666666667
6 0.4699333333333333
EOD
$s1_1 << EOD
6 0.4682888888888889
EOD
$s1_2 << EOD
6 0.4903
6 0.4875166666666666
6 0.48935
EOD
$s1_3 << EOD
6 0.4890555555555555
EOD
$s1_4 << EOD
6 0.4872333333333333
6 0.491
6 0.5001333333333334
EOD
$s1_5 << EOD
6 0.4927888888888889
EOD
$s2_0 << EOD
6 0.4686166666666666
6 0.4668166666666666
6 0.4625666666666667
EOD
$s2_1 << EOD
6 0.46599999999999997
EOD
$s2_2 << EOD
6 0.4845166666666666
6 0.4902166666666667
6 0.4782333333333334
EOD
$s2_3 << EOD
6 0.48432222222222227
EOD
$s2_4 << EOD
6 0.48593333333333333
6 0.4916166666666667
6 0.4890333333333334
EOD
$s2_5 << EOD
6 0.48886111111111114
EOD
$s3_0 << EOD
6 0.4534666666666667
6 0.45165
6 0.4493166666666667
EOD
$s3_1 << EOD
6 0.4514777777777778
EOD
$s3_2 << EOD
6 0.4694833333333333
6 0.47425
6 0.4638166666666667
EOD
$s3_3 << EOD
6 0.46918333333333334
EOD
$s3_4 << EOD
6 0.4703666666666667
6 0.4773333333333333
6 0.4734166666666666
EOD
$s3_5 << EOD
6 0.47370555555555555
EOD
$s4_0 << EOD
6 0.4636833333333334
6 0.4621833333333333
6 0.4658
EOD
$s4_1 << EOD
6 0.46388888888888885
EOD
$s4_2 << EOD
6 0.4852333333333333
6 0.48285
6 0.4835
EOD
$s4_3 << EOD
6 0.4838611111111111
EOD
$s4_4 << EOD
6 0.4833666666666667
6 0.4851166666666666
6 0.4950666666666666
EOD
$s4_5 << EOD
6 0.48784999999999995
EOD
$s5_0 << EOD
6 0.45206666666666667
6 0.4493333333333333
6 0.45225
EOD
$s5_1 << EOD
6 0.45121666666666665
EOD
$s5_2 << EOD
6 0.47015
6 0.46685
6 0.4687333333333333
EOD
$s5_3 << EOD
6 0.46857777777777776
EOD
$s5_4 << EOD
6 0.4699833333333333
6 0.4711166666666667
6 0.4792833333333333
EOD
$s5_5 << EOD
6 0.4734611111111111
EOD
$s6_0 << EOD
6 0.4724166666666667
6 0.46725
6 0.4583333333333333
EOD
$s6_1 << EOD
6 0.46599999999999997
EOD
$s6_2 << EOD
6 0.4926666666666667
6 0.4810833333333333
6 0.48441666666666666
EOD
$s6_3 << EOD
6 0.4860555555555555
EOD
$s6_4 << EOD
6 0.49475
6 0.4810833333333333
6 0.49225
EOD
$s6_5 << EOD
6 0.48936111111111114
EOD
$s7_0 << EOD
6 0.19146298124787944
6 0.18829292113868298
6 0.1977839716277271
EOD
$s7_1 << EOD
6 0.1925132913380965
EOD
$s8_0 << EOD
6 0.5121161337814751
6 0.542623423003255
6 0.4769113201178213
EOD
$s8_1 << EOD
6 0.5105502923008504
EOD
$s8_2 << EOD
6 0.5636618267512443
6 0.5695858944483676
6 0.621102397925826
EOD
$s8_3 << EOD
6 0.5847833730418127
EOD
set multiplot layout 3,3

# ---- panel 0 ----
set title 'test_accuracy'
set xlabel 'task.slots'
set ylabel 'test_accuracy'
unset label 1
set autoscale xy
unset logscale
set grid xtics ytics lt 1 lw 1 lc rgb '#e0e0e0'
set key top right samplen 2
plot $s0_0 using 1:2 with points lw 1 dt 1 lc rgb '#a61f77b4' pt 7 ps 0.35 notitle, \
     $s0_1 using 1:2 with linespoints lw 2 dt 1 lc rgb '#001f77b4' pt 7 ps 0.7 title 'monolithic', \
     $s0_2 using 1:2 with points lw 1 dt 1 lc rgb '#a6d62728' pt 7 ps 0.35 notitle, \
     $s0_3 using 1:2 with linespoints lw 2 dt 1 lc rgb '#00d62728' pt 7 ps 0.7 title 'modular', \
     $s0_4 using 1:2 with points lw 1 dt 1 lc rgb '#a62ca02c' pt 7 ps 0.35 notitle, \
     $s0_5 using 1:2 with linespoints lw 2 dt 1 lc rgb '#002ca02c' pt 7 ps 0.7 title 'kernel_modular'

# ---- panel 1 ----
set title 'ood_accuracy'
set xlabel 'task.slots'
set ylabel 'ood_accuracy'
unset label 1
set autoscale xy
unset logscale
set grid xtics ytics lt 1 lw 1 lc rgb '#e0e0e0'
set key top right samplen 2
plot $s1_0 using 1:2 with points lw 1 dt 1 lc rgb '#a61f77b4' pt 7 ps 0.35 notitle, \
     $s1_1 using 1:2 with linespoints lw 2 dt 1 lc rgb '#001f77b4' pt 7 ps 0.7 title 'monolithic', \
     $s1_2 using 1:2 with points lw 1 dt 1 lc rgb '#a6d62728' pt 7 ps 0.35 notitle, \
     $s1_3 using 1:2 with linespoints lw 2 dt 1 lc rgb '#00d62728' pt 7 ps 0.7 title 'modular', \
     $s1_4 using 1:2 with points lw 1 dt 1 lc rgb '#a62ca02c' pt 7 ps 0.35 notitle, \
     $s1_5 using 1:2 with linespoints lw 2 dt 1 lc rgb '#002ca02c' pt 7 ps 0.7 title 'kernel_modular'

# ---- panel 2 ----
set title 'test_noise0.5_accuracy'
set xlabel 'task.slots'
set ylabel 'test_noise0.5_accuracy'
unset label 1
set autoscale xy
unset logscale
set grid xtics ytics lt 1 lw 1 lc rgb '#e0e0e0'
set key top right samplen 2
plot $s2_0 using 1:2 with points lw 1 dt 1 lc rgb '#a61f77b4' pt 7 ps 0.35 notitle, \
     $s2_1 using 1:2 with linespoints lw 2 dt 1 lc rgb '#001f77b4' pt 7 ps 0.7 title 'monolithic', \
     $s2_2 using 1:2 with points lw 1 dt 1 lc rgb '#a6d62728' pt 7 ps 0.35 notitle, \
     $s2_3 using 1:2 with linespoints lw 2 dt 1 lc rgb '#00d62728' pt 7 ps 0.7 title 'modular', \
     $s2_4 using 1:2 with points lw 1 dt 1 lc rgb '#a62ca02c' pt 7 ps 0.35 notitle, \
     $s2_5 using 1:2 with linespoints lw 2 dt 1 lc rgb '#002ca02c' pt 7 ps 0.7 title 'kernel_modular'

# ---- panel 3 ----
set title 'test_noise1_accuracy'
set xlabel 'task.slots'
set ylabel 'test_noise1_accuracy'
unset label 1
set autoscale xy
unset logscale
set grid xtics ytics lt 1 lw 1 lc rgb '#e0e0e0'
set key top right samplen 2
plot $s3_0 using 1:2 with points lw 1 dt 1 lc rgb '#a61f77b4' pt 7 ps 0.35 notitle, \
     $s3_1 using 1:2 with linespoints lw 2 dt 1 lc rgb '#001f77b4' pt 7 ps 0.7 title 'monolithic', \
     $s3_2 using 1:2 with points lw 1 dt 1 lc rgb '#a6d62728' pt 7 ps 0.35 notitle, \
     $s3_3 using 1:2 with linespoints lw 2 dt 1 lc rgb '#00d62728' pt 7 ps 0.7 title 'modular', \
     $s3_4 using 1:2 with points lw 1 dt 1 lc rgb '#a62ca02c' pt 7 ps 0.35 notitle, \
     $s3_5 using 1:2 with linespoints lw 2 dt 1 lc rgb '#002ca02c' pt 7 ps 0.7 title 'kernel_modular'

# ---- panel 4 ----
set title 'ood_noise0.5_accuracy'
set xlabel 'task.slots'
set ylabel 'ood_noise0.5_accuracy'
unset label 1
set autoscale xy
unset logscale
set grid xtics ytics lt 1 lw 1 lc rgb '#e0e0e0'
set key top right samplen 2
plot $s4_0 using 1:2 with points lw 1 dt 1 lc rgb '#a61f77b4' pt 7 ps 0.35 notitle, \
     $s4_1 using 1:2 with linespoints lw 2 dt 1 lc rgb '#001f77b4' pt 7 ps 0.7 title 'monolithic', \
     $s4_2 using 1:2 with points lw 1 dt 1 lc rgb '#a6d62728' pt 7 ps 0.35 notitle, \
     $s4_3 using 1:2 with linespoints lw 2 dt 1 lc rgb '#00d62728' pt 7 ps 0.7 title 'modular', \
     $s4_4 using 1:2 with points lw 1 dt 1 lc rgb '#a62ca02c' pt 7 ps 0.35 notitle, \
     $s4_5 using 1:2 with linespoints lw 2 dt 1 lc rgb '#002ca02c' pt 7 ps 0.7 title 'kernel_modular'

# ---- panel 5 ----
set title 'ood_noise1_accuracy'
set xlabel 'task.slots'
set ylabel 'ood_noise1_accuracy'
unset label 1
set autoscale xy
unset logscale
set grid xtics ytics lt 1 lw 1 lc rgb '#e0e0e0'
set key top right samplen 2
plot $s5_0 using 1:2 with points lw 1 dt 1 lc rgb '#a61f77b4' pt 7 ps 0.35 notitle, \
     $s5_1 using 1:2 with linespoints lw 2 dt 1 lc rgb '#001f77b4' pt 7 ps 0.7 title 'monolithic', \
     $s5_2 using 1:2 with points lw 1 dt 1 lc rgb '#a6d62728' pt 7 ps 0.35 notitle, \
     $s5_3 using 1:2 with linespoints lw 2 dt 1 lc rgb '#00d62728' pt 7 ps 0.7 title 'modular', \
     $s5_4 using 1:2 with points lw 1 dt 1 lc rgb '#a62ca02c' pt 7 ps 0.35 notitle, \
     $s5_5 using 1:2 with linespoints lw 2 dt 1 lc rgb '#002ca02c' pt 7 ps 0.7 title 'kernel_modular'

# ---- panel 6 ----
set title 'val_accuracy'
set xlabel 'task.slots'
set ylabel 'val_accuracy'
unset label 1
set autoscale xy
unset logscale
set grid xtics ytics lt 1 lw 1 lc rgb '#e0e0e0'
set key top right samplen 2
plot $s6_0 using 1:2 with points lw 1 dt 1 lc rgb '#a61f77b4' pt 7 ps 0.35 notitle, \
     $s6_1 using 1:2 with linespoints lw 2 dt 1 lc rgb '#001f77b4' pt 7 ps 0.7 title 'monolithic', \
     $s6_2 using 1:2 with points lw 1 dt 1 lc rgb '#a6d62728' pt 7 ps 0.35 notitle, \
     $s6_3 using 1:2 with linespoints lw 2 dt 1 lc rgb '#00d62728' pt 7 ps 0.7 title 'modular', \
     $s6_4 using 1:2 with points lw 1 dt 1 lc rgb '#a62ca02c' pt 7 ps 0.35 notitle, \
     $s6_5 using 1:2 with linespoints lw 2 dt 1 lc rgb '#002ca02c' pt 7 ps 0.7 title 'kernel_modular'

# ---- panel 7 ----
set title 'init_slot_focus'
set xlabel 'task.slots'
set ylabel 'init_slot_focus'
unset label 1
set autoscale xy
unset logscale
set grid xtics ytics lt 1 lw 1 lc rgb '#e0e0e0'
set key top right samplen 2
plot $s7_0 using 1:2 with points lw 1 dt 1 lc rgb '#a62ca02c' pt 7 ps 0.35 notitle, \
     $s7_1 using 1:2 with linespoints lw 2 dt 1 lc rgb '#002ca02c' pt 7 ps 0.7 title 'kernel_modular'

# ---- panel 8 ----
set title 'slot_focus'
set xlabel 'task.slots'
set ylabel 'slot_focus'
unset label 1
set autoscale xy
unset logscale
set grid xtics ytics lt 1 lw 1 lc rgb '#e0e0e0'
set key top right samplen 2
plot $s8_0 using 1:2 with points lw 1 dt 1 lc rgb '#a6d62728' pt 7 ps 0.35 notitle, \
     $s8_1 using 1:2 with linespoints lw 2 dt 1 lc rgb '#00d62728' pt 7 ps 0.7 title 'modular', \
     $s8_2 using 1:2 with points lw 1 dt 1 lc rgb '#a62ca02c' pt 7 ps 0.35 notitle, \
     $s8_3 using 1:2 with linespoints lw 2 dt 1 lc rgb '#002ca02c' pt 7 ps 0.7 title 'kernel_modular'
unset multiplot
set output
